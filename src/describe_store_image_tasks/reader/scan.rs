//! The reader's byte scans, sixteen bytes at a time: each gives a mask with bit `i` set when byte
//! `i` of the block is one of those looked for. SSE2 on x86-64 (which every x86-64 processor
//! has); the same masks byte by byte elsewhere.

/// Sixteen bytes of the body.
pub(super) type Block = [u8; 16];

/// The block of sixteen bytes at `at` in `bytes`, if there are sixteen.
#[inline(always)]
pub(super) fn block(bytes: &[u8], at: usize) -> Option<&Block> {
    bytes.get(at..at + 16).and_then(|b| b.try_into().ok())
}

// SAFETY (for every `unsafe` block of this module): the intrinsics called need SSE2, which the
// build enables (`cfg(target_feature = "sse2")`, part of every x86-64 target); the only one that
// reads memory, `_mm_loadu_si128`, reads sixteen bytes, unaligned, through a reference to sixteen.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod masks {
    use core::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    use super::Block;

    #[inline(always)]
    fn load(b: &Block) -> __m128i {
        // SAFETY: see the module's note.
        unsafe { _mm_loadu_si128(b.as_ptr().cast()) }
    }

    #[inline(always)]
    fn eq(v: __m128i, c: u8) -> __m128i {
        // SAFETY: see the module's note.
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
    }

    #[inline(always)]
    fn or(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: see the module's note.
        unsafe { _mm_or_si128(a, b) }
    }

    #[inline(always)]
    fn bits(v: __m128i) -> u32 {
        // SAFETY: see the module's note.
        unsafe { _mm_movemask_epi8(v) as u32 }
    }

    /// Bytes below a space or not ASCII (as signed bytes, both are below 0x20).
    #[inline(always)]
    fn unusual(v: __m128i) -> __m128i {
        // SAFETY: see the module's note.
        unsafe { _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)) }
    }

    /// `<` and `&`: where a text ends.
    #[inline(always)]
    pub(in crate::describe_store_image_tasks::reader) fn markup(b: &Block) -> u32 {
        let v = load(b);
        bits(or(eq(v, b'<'), eq(v, b'&')))
    }

    /// Whether any of four blocks holds a byte below a space or not ASCII.
    #[inline(always)]
    pub(in crate::describe_store_image_tasks::reader) fn any_unusual(b: [&Block; 4]) -> bool {
        let u = |i: usize| unusual(load(b[i]));
        bits(or(or(u(0), u(1)), or(u(2), u(3)))) != 0
    }

    /// Bytes that are not ASCII.
    #[inline(always)]
    pub(in crate::describe_store_image_tasks::reader) fn high(b: &Block) -> u32 {
        bits(load(b))
    }

    /// Control bytes other than tab, line feed and carriage return.
    #[inline(always)]
    pub(in crate::describe_store_image_tasks::reader) fn control(b: &Block) -> u32 {
        let v = load(b);
        let allowed = or(or(eq(v, b'\t'), eq(v, b'\n')), eq(v, b'\r'));
        // SAFETY: see the module's note.
        let below = unsafe { _mm_andnot_si128(allowed, unusual(v)) };
        bits(below) & !bits(v)
    }

    /// The byte 0xEF, which begins U+FFFE and U+FFFF.
    #[inline(always)]
    pub(in crate::describe_store_image_tasks::reader) fn ef(b: &Block) -> u32 {
        bits(eq(load(b), 0xEF))
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
mod masks {
    use super::Block;

    #[inline(always)]
    fn bits(b: &Block, f: impl Fn(u8) -> bool) -> u32 {
        b.iter().enumerate().fold(0, |m, (i, &c)| m | (u32::from(f(c)) << i))
    }

    pub(in crate::describe_store_image_tasks::reader) fn markup(b: &Block) -> u32 {
        bits(b, |c| c == b'<' || c == b'&')
    }

    pub(in crate::describe_store_image_tasks::reader) fn any_unusual(b: [&Block; 4]) -> bool {
        b.iter().any(|b| b.iter().any(|&c| (c as i8) < 0x20))
    }

    pub(in crate::describe_store_image_tasks::reader) fn high(b: &Block) -> u32 {
        bits(b, |c| c >= 0x80)
    }

    pub(in crate::describe_store_image_tasks::reader) fn control(b: &Block) -> u32 {
        bits(b, |c| c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r')
    }

    pub(in crate::describe_store_image_tasks::reader) fn ef(b: &Block) -> u32 {
        bits(b, |c| c == 0xEF)
    }
}

pub(super) use masks::{any_unusual, control, ef, high, markup};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mask against its byte-by-byte meaning, for every byte value in every lane.
    #[test]
    fn masks_mean_what_they_say() {
        for lane in 0..16 {
            for c in 0..=255u8 {
                let mut b: Block = [b'a'; 16];
                b[lane] = c;
                let bit = |yes: bool| if yes { 1u32 << lane } else { 0 };
                assert_eq!(markup(&b), bit(c == b'<' || c == b'&'), "markup {c:#x} at {lane}");
                assert_eq!(high(&b), bit(c >= 0x80), "high {c:#x}");
                assert_eq!(control(&b), bit(c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')), "control {c:#x}");
                assert_eq!(ef(&b), bit(c == 0xEF), "ef {c:#x}");
                let plain: Block = [b' '; 16];
                assert_eq!(any_unusual([&plain, &plain, &b, &plain]), !(0x20..0x80).contains(&c), "unusual {c:#x}");
            }
        }
    }
}
