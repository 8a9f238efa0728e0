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
        Progress::start_on(ProgressDrawTarget::stderr_with_hz(10), counters, what)
    }

    /// Starts a ticker drawing on `target`.
    fn start_on(
        target: ProgressDrawTarget,
        counters: Arc<Counters>,
        what: &'static str,
    ) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let bar = ProgressBar::with_draw_target(None, target);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A terminal that records what is drawn.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(&format!("{s}\n"));
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.0.lock().unwrap().push('\n');
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn draw(total: u64, scanned: u64, commits: u64) -> String {
        let screen = Screen::default();
        let counters = Arc::new(Counters::default());
        counters.total.store(total, Ordering::Relaxed);
        counters.scanned.store(scanned, Ordering::Relaxed);
        counters.commits.store(commits, Ordering::Relaxed);
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let p = Progress::start_on(target, counters, "blobs");
        std::thread::sleep(Duration::from_millis(350));
        p.finish();
        screen.0.lock().unwrap().clone()
    }

    #[test]
    fn percentage_and_eta_once_the_total_is_known() {
        let drawn = draw(200, 50, 1);
        assert!(drawn.contains(" 25% · ETA "), "{drawn}");
        assert!(drawn.contains("1 commit · 50/200 blobs"), "{drawn}");
        let drawn = draw(0, 50, 3);
        assert!(!drawn.contains('%'), "{drawn}");
        assert!(drawn.contains("3 commits · 50 blobs"), "{drawn}");
    }
}
