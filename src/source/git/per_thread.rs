//! One reusable value per rayon pool thread (a libgit2 handle, a worker's inflate and delta
//! buffers), kept from task to task without a thread ever waiting for it.

use std::sync::Mutex;

pub(super) struct PerThread<T>(Vec<Mutex<Option<T>>>);

impl<T> PerThread<T> {
    pub(super) fn new() -> Self {
        Self(
            (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(None))
                .collect(),
        )
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Runs `f` with this thread's value, made by `init` on first use. A task this thread took
    /// while its own slot was held (rayon runs stolen work inside a blocked task) gets a fresh
    /// value, dropped afterwards, instead of waiting; so does every task after a panic
    /// poisoned the slot.
    pub(super) fn with<R>(&self, init: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> R {
        let slot = &self.0[rayon::current_thread_index().unwrap_or(0) % self.0.len()];
        let mut held = slot.try_lock();
        let mut spare = None;
        let value = match held.as_deref_mut() {
            Ok(v) => v,
            Err(_) => &mut spare,
        }
        .get_or_insert_with(init);
        f(value)
    }

    /// The values the slots kept (not the spares, not a poisoned slot's).
    pub(super) fn into_values(self) -> impl Iterator<Item = T> {
        self.0
            .into_iter()
            .filter_map(|m| m.into_inner().ok().flatten())
    }
}
