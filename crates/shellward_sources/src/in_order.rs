//! Work handed to the pool piece by piece as it is read, with the results taken back in the order
//! the pieces came.
//!
//! The text readers cut their input into batches on the reading thread ([`crate::text`]). Decoding
//! a batch in parallel and cutting the next while it decodes leaves cores idle at every batch's
//! end: the pool waits for the cut, the last record of the batch decodes on one core while the
//! other has nothing to do, and the results are delivered while neither works. A pack hunt over
//! OTRF's JSON lines kept 1.4 of 2 cores busy that way. Here each batch is a task of its own,
//! spawned as soon as it is cut; the reading thread goes on cutting until [`Limits`] are reached,
//! and delivers each result once every result before it has been delivered. The pool then always
//! has a batch to decode until the input ends.
//!
//! Memory stays bounded: at most [`Limits::items`] batches, weighing at most [`Limits::weight`]
//! together (one batch more than that when it is the first), are held between being cut and being
//! delivered. A batch is given back with its result, so that it is dropped on the thread that
//! allocated it (its memory is then reused for the next batch there, instead of fresh pages).

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc;

/// How much [`map_in_order`] holds between a batch being given and its result delivered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most batches held.
    pub(crate) items: usize,
    /// The most weight held (the batches' bytes, as `next` weighs them).
    pub(crate) weight: usize,
}

/// Runs `work` over each batch `next` gives (with its weight), on the rayon pool, as soon as it
/// is given; hands each batch and its result to `deliver` in the order `next` gave them. Stops
/// giving when `deliver` breaks (the batches already given still finish, undelivered). Called
/// from a pool thread, it runs other work of the pool while it waits, instead of blocking.
pub(crate) fn map_in_order<T: Send, U: Send>(
    mut next: impl FnMut() -> Option<(T, usize)>,
    work: impl Fn(&mut T) -> U + Sync,
    mut deliver: impl FnMut(T, U) -> ControlFlow<()>,
    limits: Limits,
) -> ControlFlow<()> {
    let (send, receive) = mpsc::channel::<(u64, T, U)>();
    let work = &work;
    rayon::in_place_scope(|scope| {
        // The weights of the batches given and not yet delivered, oldest first.
        let mut held: VecDeque<usize> = VecDeque::new();
        let mut held_weight = 0usize;
        // Results that came before an older one, by how far after the oldest they are.
        let mut arrived: VecDeque<Option<(T, U)>> = VecDeque::new();
        let (mut given, mut delivered) = (0u64, 0u64);
        let mut ended = false;
        loop {
            let room =
                held.is_empty() || (held.len() < limits.items && held_weight < limits.weight);
            if !ended && room {
                match next() {
                    Some((mut batch, weight)) => {
                        let (send, index) = (send.clone(), given);
                        scope.spawn(move |_| {
                            let result = work(&mut batch);
                            // The receiver lives until every task is done.
                            let _ = send.send((index, batch, result));
                        });
                        given += 1;
                        held.push_back(weight);
                        held_weight += weight;
                    }
                    None => ended = true,
                }
            } else if held.is_empty() {
                return ControlFlow::Continue(());
            } else {
                arrive(&mut arrived, delivered, wait(&receive));
            }
            // Deliver every result whose turn has come (without waiting for any).
            while let Ok(arrival) = receive.try_recv() {
                arrive(&mut arrived, delivered, arrival);
            }
            while let Some(Some((batch, result))) = arrived.front_mut().map(Option::take) {
                arrived.pop_front();
                held_weight -= held.pop_front().unwrap_or(0);
                delivered += 1;
                deliver(batch, result)?;
            }
        }
    })
}

/// Keeps a result that arrived (`index`: the order its batch was given in) in `arrived`, whose
/// front is the result of batch `delivered`.
fn arrive<T, U>(arrived: &mut VecDeque<Option<(T, U)>>, delivered: u64, arrival: (u64, T, U)) {
    let (index, batch, result) = arrival;
    let slot = usize::try_from(index - delivered).unwrap_or(usize::MAX);
    if arrived.len() <= slot {
        arrived.resize_with(slot + 1, || None);
    }
    arrived[slot] = Some((batch, result));
}

/// The next result to arrive: waited for in the pool's work where this thread is one of its
/// threads (blocking it could leave the pool without a thread to run the work waited for).
fn wait<V>(receive: &mpsc::Receiver<V>) -> V {
    loop {
        if rayon::current_thread_index().is_none() {
            if let Ok(value) = receive.recv() {
                return value;
            }
        } else if let Ok(value) = receive.try_recv() {
            return value;
        } else if rayon::yield_now() != Some(rayon::Yield::Executed) {
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const LIMITS: Limits = Limits { items: 4, weight: 10 };

    /// Runs `map_in_order` over 0..count (weights `weight(i)`, work sleeping longer for early
    /// items, so that results arrive out of order); returns what was delivered and the most weight
    /// and batches held at once.
    fn run(count: usize, weight: impl Fn(usize) -> usize, stop_at: Option<usize>) -> Run {
        let held = AtomicUsize::new(0);
        let held_weight = AtomicUsize::new(0);
        let (most, most_weight) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut items = 0..count;
        let mut delivered = Vec::new();
        let flow = map_in_order(
            || {
                let i = items.next()?;
                let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                let now_weight = held_weight.fetch_add(weight(i), Ordering::SeqCst) + weight(i);
                most.fetch_max(now, Ordering::SeqCst);
                most_weight.fetch_max(now_weight, Ordering::SeqCst);
                Some((i, weight(i)))
            },
            |&mut i| {
                std::thread::sleep(std::time::Duration::from_micros(((count - i) % 7) as u64 * 50));
                i * 10
            },
            |i, result| {
                held.fetch_sub(1, Ordering::SeqCst);
                held_weight.fetch_sub(weight(i), Ordering::SeqCst);
                assert_eq!(result, i * 10);
                delivered.push(i);
                if stop_at == Some(i) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            },
            LIMITS,
        );
        Run { flow, delivered, most: most.into_inner(), most_weight: most_weight.into_inner() }
    }

    struct Run {
        flow: ControlFlow<()>,
        delivered: Vec<usize>,
        most: usize,
        most_weight: usize,
    }

    #[test]
    fn results_are_delivered_in_order_with_bounded_batches_held() {
        let run = run(200, |_| 3, None);
        assert_eq!(run.flow, ControlFlow::Continue(()));
        assert_eq!(run.delivered, (0..200).collect::<Vec<_>>());
        assert!(run.most <= LIMITS.items, "{} batches held", run.most);
        // Batches are given while less than the limit is held: at most one batch more.
        assert!(run.most_weight < LIMITS.weight + 3, "{} held", run.most_weight);
    }

    #[test]
    fn a_batch_heavier_than_the_limit_is_given_alone() {
        let run = run(20, |i| if i % 5 == 0 { 100 } else { 1 }, None);
        assert_eq!(run.delivered, (0..20).collect::<Vec<_>>());
        assert!(run.most_weight <= 100 + LIMITS.weight, "{} held", run.most_weight);
    }

    #[test]
    fn a_break_stops_giving_and_delivering() {
        let run = run(100, |_| 1, Some(10));
        assert_eq!(run.flow, ControlFlow::Break(()));
        assert_eq!(run.delivered, (0..=10).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_given_delivers_nothing() {
        let run = run(0, |_| 1, None);
        assert_eq!(run.flow, ControlFlow::Continue(()));
        assert!(run.delivered.is_empty());
    }

    #[test]
    fn it_runs_from_the_pool_threads_without_blocking_them() {
        // Both threads of a two-thread pool wait for results at once: were either blocked, the
        // other's work could not all run, and the runs would never end.
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
            let runs: Vec<Vec<usize>> = pool.install(|| {
                use rayon::prelude::*;
                (0..2).into_par_iter().map(|_| run(50, |_| 1, None).delivered).collect()
            });
            let _ = done.send(runs);
        });
        let runs = finished.recv_timeout(std::time::Duration::from_secs(30)).expect("deadlock");
        for delivered in runs {
            assert_eq!(delivered, (0..50).collect::<Vec<_>>());
        }
    }
}
