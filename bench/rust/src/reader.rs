//! The reply reader alone, on the bytes of a whole listing fetched once from the emulator, beside
//! two anchors read over the same bytes in the same run: a bare `memchr` scan for `<` (the speed
//! of one pass over the bytes) and quick-xml's pull reader taking every event (a common fast
//! Rust XML reader, which checks less).
//!
//! `storetasks-bench-reader --endpoint URL --tasks N [--warmup W] [--reps R]` prints
//! `{"bytes": B, "pages": P, "memchr": [s...], "quick_xml": [s...], "reader": [s...]}`: the
//! seconds each took to go over every page, the three taking turns in each round.
//! With `--once`, it fetches the pages, reads them once with the library's reader and prints the
//! byte count: for a profiler that counts the reader's instructions alone.

#[allow(dead_code)] // the listing programs' timing helpers are not used here
mod common;
mod wire;

use std::hint::black_box;
use std::time::Instant;

use common::Args;
use wire::{Connection, next_token, page_request};

/// A way of going over every page; returns what it counted.
type Reading = fn(&[Vec<u8>]) -> usize;

/// Every page of a listing, as the emulator sent them.
fn fetch(endpoint: &str) -> Vec<Vec<u8>> {
    let mut conn = Connection::open(endpoint);
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let reply = conn.post(&page_request(token.as_deref()));
        token = next_token(&reply);
        pages.push(reply);
        if token.is_none() {
            return pages;
        }
    }
}

/// Counts the `<` of every page: one pass over the bytes.
fn scan(pages: &[Vec<u8>]) -> usize {
    pages.iter().map(|p| memchr::memchr_iter(b'<', black_box(p)).count()).sum()
}

/// Pulls every event of every page with quick-xml; counts the `item` elements (the tasks).
fn quick_xml(pages: &[Vec<u8>]) -> usize {
    let mut items = 0;
    for page in pages {
        let mut reader = quick_xml::Reader::from_reader(black_box(page.as_slice()));
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(e)) if e.local_name().into_inner() == "item" => items += 1,
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("quick-xml refused a page: {e}"),
            }
        }
    }
    items
}

/// Reads every page with the library's reader; counts the tasks.
fn reader(pages: &[Vec<u8>]) -> usize {
    pages
        .iter()
        .map(|p| storetasks::describe_store_image_tasks::reader::read_reply(black_box(p)).expect("a valid reply").tasks().len())
        .sum()
}

fn main() {
    let once = std::env::args().any(|a| a == "--once");
    let argv: Vec<String> = std::env::args().filter(|a| a != "--once").collect();
    let args = Args::parse_from("storetasks-bench-reader", argv);
    let pages = fetch(&args.endpoint);
    let bytes: usize = pages.iter().map(Vec::len).sum();
    if once {
        let tasks = reader(&pages);
        println!("{{\"bytes\": {bytes}, \"pages\": {}, \"tasks\": {tasks}}}", pages.len());
        return;
    }
    let runs: [(&str, Reading); 3] = [("memchr", scan), ("quick_xml", quick_xml), ("reader", reader)];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for round in 0..args.warmup + args.reps {
        for (i, (name, run)) in runs.iter().enumerate() {
            let start = Instant::now();
            let n = run(&pages);
            let elapsed = start.elapsed().as_secs_f64();
            if *name != "memchr" && args.tasks != 0 && n != args.tasks {
                eprintln!("{name} found {n} tasks, expected {}", args.tasks);
                std::process::exit(1);
            }
            if round >= args.warmup {
                times[i].push(elapsed);
            }
        }
    }
    let lists: Vec<String> = runs
        .iter()
        .zip(&times)
        .map(|((name, _), t)| {
            let t: Vec<String> = t.iter().map(|s| format!("{s:.6}")).collect();
            format!("\"{name}\": [{}]", t.join(", "))
        })
        .collect();
    println!("{{\"bytes\": {bytes}, \"pages\": {}, {}}}", pages.len(), lists.join(", "));
}
