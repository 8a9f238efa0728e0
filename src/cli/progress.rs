//! The progress bar: hidden unless stderr is a terminal; a ticker thread reads the sources'
//! atomic counters, so workers never touch the terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keyleak::source::{Counters, human_bytes};

/// The style once the total is known: percentage and estimated time left.
fn sized_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {elapsed_precise} {percent:>3}% · ETA {eta} · {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A running progress display; stops and clears itself on [`Progress::finish`] or drop.
pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a ticker when `enabled`; `what` names the unit (`files`, `blobs`).
    pub fn start(enabled: bool, counters: Arc<Counters>, what: &'static str) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled {
            return Progress { stop, handle: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut sized = false;
            while !flag.load(Ordering::Relaxed) {
                let scanned = Counters::get(&counters.scanned);
                let total = Counters::get(&counters.total);
                let commits = Counters::get(&counters.commits);
                // Once the source knows how much there is (git: the blob total after the
                // walk), the bar shows how far along it is and indicatif estimates the rest.
                if total > 0 {
                    if !sized {
                        sized = true;
                        bar.set_style(sized_style());
                    }
                    bar.set_length(total);
                    bar.set_position(scanned.min(total));
                }
                let mut msg = if total > 0 {
                    format!("{scanned}/{total} {what}")
                } else {
                    format!("{scanned} {what}")
                };
                if commits > 0 {
                    let c = if commits == 1 { "commit" } else { "commits" };
                    msg = format!("{commits} {c} · {msg}");
                }
                msg.push_str(&format!(
                    " · {} · {} finding{}",
                    human_bytes(Counters::get(&counters.bytes)),
                    Counters::get(&counters.findings),
                    if Counters::get(&counters.findings) == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
                bar.set_message(msg);
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the ticker and clears the line.
    pub fn finish(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_now();
    }
}
