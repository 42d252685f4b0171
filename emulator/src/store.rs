//! Store-image tasks, the emulator clock, the tasks-file format and the generator.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::accounts::Pair;

pub const DAY_MS: i64 = 86_400_000;
/// DescribeStoreImageTasks only reports tasks started within the last 31 days.
pub const WINDOW_MS: i64 = 31 * DAY_MS;

pub const IN_PROGRESS: &str = "InProgress";
pub const COMPLETED: &str = "Completed";
pub const FAILED: &str = "Failed";
pub const DEFAULT_FAILURE_REASON: &str = "The store task failed: the emulator's fail mark was reached.";

/// Parses an RFC 3339 timestamp into milliseconds since the Unix epoch (sub-millisecond digits
/// are truncated).
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// Formats milliseconds since the epoch the way EC2 writes `taskStartTime`:
/// `2026-11-20T12:00:00.123Z`.
pub fn format_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Emulator time: a start value that advances with the monotonic clock, plus manual advances.
pub struct Clock {
    base_ms: i64,
    started: Instant,
    advanced_ms: AtomicI64,
}

impl Clock {
    pub fn new(start_ms: Option<i64>) -> Clock {
        let base_ms =
            start_ms.unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0));
        Clock { base_ms, started: Instant::now(), advanced_ms: AtomicI64::new(0) }
    }

    pub fn now_ms(&self) -> i64 {
        self.base_ms + self.started.elapsed().as_millis() as i64 + self.advanced_ms.load(Ordering::SeqCst)
    }

    pub fn advance_ms(&self, ms: i64) {
        self.advanced_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A task as stored: its members as loaded or created (`stored`), the mark at which it is to
/// fail, and `added_ms`, the emulator time the task was loaded or created: progress under
/// `--progress-rate` is counted from then.
#[derive(Debug, Clone)]
pub struct Task {
    pub seq: u64,
    pub stored: View,
    pub fail_at: Option<i64>,
    pub added_ms: i64,
}

/// A task's members: as loaded or created (`Task::stored`), or as DescribeStoreImageTasks reports
/// them at a given instant (`Task::view`: progress advanced, a held-back failure reason).
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub ami_id: Option<String>,
    pub start_ms: Option<i64>,
    pub bucket: Option<String>,
    pub s3_key: Option<String>,
    pub progress: Option<i64>,
    pub state: Option<String>,
    pub failure_reason: Option<String>,
}

/// Sort key: newest first means descending order of this key. Tasks without a start time sort
/// after all dated tasks; the insertion sequence breaks ties.
pub type Position = (i64, u64);

impl Task {
    pub fn position(&self) -> Position {
        (self.stored.start_ms.unwrap_or(i64::MIN), self.seq)
    }

    pub fn visible_at(&self, now_ms: i64) -> bool {
        self.stored.start_ms.is_none_or(|s| s >= now_ms - WINDOW_MS)
    }

    pub fn view(&self, now_ms: i64, rate: f64) -> View {
        let mut v = self.stored.clone();
        if v.state.as_deref() != Some(IN_PROGRESS) {
            return v;
        }
        if self.fail_at.is_some() {
            // The reason of a task marked to fail is held back until it fails.
            v.failure_reason = None;
        }
        let elapsed_s = (now_ms - self.added_ms).max(0) as f64 / 1000.0;
        let progress = self.stored.progress.unwrap_or(0) as f64 + rate * elapsed_s;
        if let Some(mark) = self.fail_at
            && progress >= mark as f64
        {
            v.state = Some(FAILED.to_owned());
            v.progress = Some(mark.clamp(0, 100));
            v.failure_reason = Some(self.stored.failure_reason.clone().unwrap_or_else(|| DEFAULT_FAILURE_REASON.to_owned()));
        } else if progress >= 100.0 {
            v.state = Some(COMPLETED.to_owned());
            v.progress = Some(100);
            v.failure_reason = None;
        } else if self.stored.progress.is_some() || rate > 0.0 {
            v.progress = Some(progress.floor() as i64);
        }
        v
    }
}

/// One entry of the tasks file, in the AWS CLI output shape plus `EmulatorFailAt`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskEntry {
    #[serde(rename = "AmiId", skip_serializing_if = "Option::is_none")]
    pub ami_id: Option<String>,
    #[serde(rename = "TaskStartTime", skip_serializing_if = "Option::is_none")]
    pub task_start_time: Option<String>,
    #[serde(rename = "Bucket", skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(rename = "S3objectKey", skip_serializing_if = "Option::is_none")]
    pub s3_object_key: Option<String>,
    #[serde(rename = "ProgressPercentage", skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<i64>,
    #[serde(rename = "StoreTaskState", skip_serializing_if = "Option::is_none")]
    pub store_task_state: Option<String>,
    #[serde(rename = "StoreTaskFailureReason", skip_serializing_if = "Option::is_none")]
    pub store_task_failure_reason: Option<String>,
    #[serde(rename = "EmulatorFailAt", skip_serializing_if = "Option::is_none")]
    pub emulator_fail_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TasksFile {
    #[serde(rename = "StoreImageTaskResults", default)]
    pub store_image_task_results: Vec<TaskEntry>,
}

impl TasksFile {
    pub fn parse(json: &[u8]) -> Result<TasksFile, String> {
        let file: TasksFile = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        for (i, e) in file.store_image_task_results.iter().enumerate() {
            if let Some(t) = &e.task_start_time
                && parse_rfc3339_ms(t).is_none()
            {
                return Err(format!("task {i}: TaskStartTime `{t}` is not RFC 3339"));
            }
        }
        Ok(file)
    }
}

/// All tasks, newest first (by [`Position`]), so that a page starts with a binary search instead
/// of a sort of every task.
#[derive(Default)]
pub struct Store {
    tasks: Vec<Task>,
    next_seq: u64,
}

impl Store {
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn clear(&mut self) -> usize {
        let n = self.tasks.len();
        self.tasks.clear();
        n
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn push(&mut self, mut task: Task) {
        task.seq = self.next_seq();
        let at = self.tasks.partition_point(|t| t.position() > task.position());
        self.tasks.insert(at, task);
    }

    pub fn add_entries(&mut self, file: TasksFile, now_ms: i64) -> usize {
        let n = file.store_image_task_results.len();
        self.tasks.reserve(n);
        for e in file.store_image_task_results {
            let seq = self.next_seq();
            let stored = View {
                ami_id: e.ami_id,
                start_ms: e.task_start_time.as_deref().and_then(parse_rfc3339_ms),
                bucket: e.bucket,
                s3_key: e.s3_object_key,
                progress: e.progress_percentage,
                state: e.store_task_state,
                failure_reason: e.store_task_failure_reason,
            };
            self.tasks.push(Task { seq, stored, fail_at: e.emulator_fail_at, added_ms: now_ms });
        }
        // One sort for the whole file rather than an insertion per task.
        self.tasks.sort_unstable_by_key(|t| std::cmp::Reverse(t.position()));
        n
    }

    /// The AMI ids of all tasks.
    pub fn ami_ids(&self) -> impl Iterator<Item = &str> {
        self.tasks.iter().filter_map(|t| t.stored.ami_id.as_deref())
    }

    /// All tasks as a tasks file, newest first (hidden ones and fail marks included).
    pub fn to_file(&self) -> TasksFile {
        TasksFile {
            store_image_task_results: self
                .tasks
                .iter()
                .map(|t| {
                    let v = &t.stored;
                    TaskEntry {
                        ami_id: v.ami_id.clone(),
                        task_start_time: v.start_ms.map(format_ms),
                        bucket: v.bucket.clone(),
                        s3_object_key: v.s3_key.clone(),
                        progress_percentage: v.progress,
                        store_task_state: v.state.clone(),
                        store_task_failure_reason: v.failure_reason.clone(),
                        emulator_fail_at: t.fail_at,
                    }
                })
                .collect(),
        }
    }

    /// Visible tasks (31-day window), newest first.
    pub fn visible_sorted(&self, now_ms: i64) -> Vec<&Task> {
        self.tasks.iter().filter(|t| t.visible_at(now_ms)).collect()
    }

    /// Visible tasks that come after `after` in the listing (older), newest first.
    pub fn visible_after(&self, now_ms: i64, after: Position) -> impl Iterator<Item = &Task> {
        let start = self.tasks.partition_point(|t| t.position() >= after);
        self.tasks[start..].iter().filter(move |t| t.visible_at(now_ms))
    }
}

/// splitmix64: small, fast and good enough for fixtures and request ids.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// FNV-1a over bytes: a hash that, unlike the standard library's, is the same in every build.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub const BUCKETS: [&str; 4] = ["storetasks-bucket-a", "storetasks-bucket-b", "storetasks-bucket-c", "storetasks-bucket-d"];

/// Failure reasons with characters that need escaping in XML and non-ASCII text.
pub const FAILURE_REASONS: [&str; 6] = [
    "Access denied to bucket \"storetasks-bucket-a\": <s3:PutObject> & retries exhausted",
    "The AMI's snapshot isn't available — try again later",
    "Échec de l'écriture : quota dépassé > 5 TiB",
    "日本リージョンのバケットに書き込めません <code>&amp;</code>",
    "Snapshot snap-0123456789abcdef0 failed: I/O error at offset 1<<40 & \"ret\"='EIO'",
    "Ünïcödé reason with a tab\tand emoji 🚀 < > & \" '",
];

/// Generates `visible` tasks started within the last 30 days before `now_ms`, plus a few
/// started 32 to 45 days ago (which DescribeStoreImageTasks must not report).
pub fn generate(visible: usize, seed: u64, now_ms: i64) -> TasksFile {
    generate_with(visible, seed, now_ms, &mut HashSet::new(), |rng| format!("ami-{:016x}{:x}", rng.next_u64(), rng.below(16)))
}

/// The tasks `--generate N` gives a pair other than the home pair: the same kind of tasks as
/// [`generate`], from a seed derived from `seed` and the pair. Their AMI ids start with five hex
/// digits drawn from the pair, and none is in `taken` (the ids of the pairs generated before),
/// which receives them.
pub fn generate_for_pair(visible: usize, seed: u64, pair: &Pair, now_ms: i64, taken: &mut HashSet<String>) -> TasksFile {
    let digest = pair.digest();
    let tag = digest >> 44;
    generate_with(visible, mix64(seed ^ digest), now_ms, taken, |rng| {
        format!("ami-{tag:05x}{:011x}{:x}", rng.next_u64() >> 20, rng.below(16))
    })
}

fn generate_with(
    visible: usize,
    seed: u64,
    now_ms: i64,
    amis: &mut HashSet<String>,
    mut ami_id: impl FnMut(&mut SplitMix) -> String,
) -> TasksFile {
    let mut rng = SplitMix(seed ^ 0x5354_4f52_4554_4153);
    let hidden = 3 + visible / 20;
    let mut starts = HashSet::new();
    let mut out = Vec::with_capacity(visible + hidden);
    for i in 0..visible + hidden {
        let is_hidden = i >= visible;
        let start = loop {
            let age = if is_hidden {
                32 * DAY_MS + rng.below((13 * DAY_MS) as u64) as i64
            } else {
                60_000 + rng.below((30 * DAY_MS - 60_000) as u64) as i64
            };
            if starts.insert(now_ms - age) {
                break now_ms - age;
            }
        };
        let ami = loop {
            let id = ami_id(&mut rng);
            if amis.insert(id.clone()) {
                break id;
            }
        };
        let bucket = BUCKETS[rng.below(BUCKETS.len() as u64) as usize].to_owned();
        let roll = rng.below(100);
        let mut e = TaskEntry {
            s3_object_key: if rng.below(100) < 8 { None } else { Some(format!("{ami}.bin")) },
            ami_id: Some(ami),
            task_start_time: Some(format_ms(start)),
            bucket: Some(bucket),
            ..TaskEntry::default()
        };
        let no_progress = rng.below(100) < 8;
        if roll < 45 {
            e.store_task_state = Some(COMPLETED.into());
            e.progress_percentage = Some(100);
        } else if roll < 75 {
            e.store_task_state = Some(IN_PROGRESS.into());
            let p = rng.below(95) as i64;
            e.progress_percentage = Some(p);
            if rng.below(100) < 35 {
                e.emulator_fail_at = Some(p + 1 + rng.below((99 - p) as u64) as i64);
                if rng.below(2) == 0 {
                    e.store_task_failure_reason = Some(FAILURE_REASONS[rng.below(FAILURE_REASONS.len() as u64) as usize].into());
                }
            }
        } else {
            e.store_task_state = Some(FAILED.into());
            e.progress_percentage = Some(rng.below(100) as i64);
            e.store_task_failure_reason = Some(FAILURE_REASONS[rng.below(FAILURE_REASONS.len() as u64) as usize].into());
        }
        if no_progress {
            e.progress_percentage = None;
        }
        out.push(e);
    }
    TasksFile { store_image_task_results: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_three_fraction_digits() {
        let ms = parse_rfc3339_ms("2026-11-20T12:00:00.123456+00:00").unwrap();
        assert_eq!(format_ms(ms), "2026-11-20T12:00:00.123Z");
        assert_eq!(format_ms(parse_rfc3339_ms("2026-01-02T03:04:05Z").unwrap()), "2026-01-02T03:04:05.000Z");
    }

    #[test]
    fn generator_is_deterministic_and_unique() {
        let now = parse_rfc3339_ms("2026-11-20T12:00:00Z").unwrap();
        let a = generate(200, 7, now);
        let b = generate(200, 7, now);
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        let amis: HashSet<_> = a.store_image_task_results.iter().map(|e| e.ami_id.clone()).collect();
        assert_eq!(amis.len(), a.store_image_task_results.len());
        for e in &a.store_image_task_results {
            let ami = e.ami_id.as_deref().unwrap();
            assert_eq!(ami.len(), 21, "{ami}");
        }
    }

    #[test]
    fn home_generator_output_is_unchanged() {
        // The home pair's generated tasks are what every existing test and fixture expects:
        // values taken from the generator before pairs existed.
        let now = parse_rfc3339_ms("2026-11-20T12:00:00Z").unwrap();
        let a = generate(3, 1, now);
        let find = |id: &str| a.store_image_task_results.iter().find(|e| e.ami_id.as_deref() == Some(id)).cloned();
        let e = find("ami-e0b1e25c0c81c9e84").expect("the first generated id");
        assert_eq!(e.task_start_time.as_deref(), Some("2026-11-18T08:03:19.759Z"));
        assert_eq!((e.progress_percentage, e.store_task_state.as_deref()), (Some(42), Some(IN_PROGRESS)));
        let e = find("ami-ba10a4f562484a515").expect("the second generated id");
        assert_eq!(e.s3_object_key.as_deref(), Some("ami-ba10a4f562484a515.bin"));
        assert!(find("ami-80b28388607a6c946").is_some());
    }

    #[test]
    fn pair_data_is_deterministic_and_ids_never_collide() {
        let now = parse_rfc3339_ms("2026-11-20T12:00:00Z").unwrap();
        let pairs: Vec<Pair> = ["123456789012", "210987654321", "000000000001"]
            .iter()
            .flat_map(|a| ["us-east-1", "eu-west-3", "ap-south-1", "ca-central-1"].map(|r| Pair::new(a, r)))
            .collect();
        let run = || {
            let home = generate(150, 7, now);
            let mut taken: HashSet<String> = home.store_image_task_results.iter().filter_map(|e| e.ami_id.clone()).collect();
            let mut all = vec![serde_json::to_string(&home).unwrap()];
            for p in pairs.iter().skip(1) {
                all.push(serde_json::to_string(&generate_for_pair(150, 7, p, now, &mut taken)).unwrap());
            }
            (all, taken)
        };
        let (first, taken) = run();
        let (second, _) = run();
        assert_eq!(first, second, "the same options give the same tasks");
        let per_pair = 150 + 3 + 150 / 20;
        assert_eq!(taken.len(), pairs.len() * per_pair, "AMI ids are unique across all pairs");
        // Each pair's data differs from every other's, and its ids carry the pair's tag.
        let distinct: HashSet<&String> = first.iter().collect();
        assert_eq!(distinct.len(), pairs.len());
        let mut t = HashSet::new();
        let f = generate_for_pair(10, 7, &pairs[5], now, &mut t);
        let tag = format!("ami-{:05x}", pairs[5].digest() >> 44);
        assert!(f.store_image_task_results.iter().all(|e| e.ami_id.as_deref().unwrap().starts_with(&tag)));
        assert!(f.store_image_task_results.iter().all(|e| e.ami_id.as_deref().unwrap().len() == 21));
        // Another seed gives other tasks for the same pair.
        let g = generate_for_pair(10, 8, &pairs[5], now, &mut HashSet::new());
        assert_ne!(serde_json::to_string(&f).unwrap(), serde_json::to_string(&g).unwrap());
        // Ids already taken are skipped, deterministically.
        let mut pre: HashSet<String> = f.store_image_task_results.iter().filter_map(|e| e.ami_id.clone()).collect();
        pre.remove(f.store_image_task_results[0].ami_id.as_ref().unwrap());
        let again = generate_for_pair(10, 7, &pairs[5], now, &mut pre);
        assert_eq!(again.store_image_task_results[0].ami_id, f.store_image_task_results[0].ami_id);
        assert!(
            again.store_image_task_results[1..].iter().all(|e| !f.store_image_task_results.iter().any(|x| x.ami_id == e.ami_id))
        );
    }
}
