//! [`LowPriority`]: a thread of its own, at the lowest CPU priority, for the media work that
//! must not slow webhook ingestion.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

/// The nice value of the thread: the lowest priority an unprivileged process may take.
#[cfg(target_os = "linux")]
const LOWEST: i32 = 19;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs futures on a thread of its own with a runtime of its own, whose CPU priority is the
/// lowest (nice 19, on Linux): downloading an attachment, hashing it and writing its file then
/// take the CPU that deliveries leave, and a busy inbox answers Meta as fast as without media.
///
/// Threads the runtime starts for blocking work (file writes) inherit the priority. The
/// thread ends once every handle is dropped; the work it still runs is then dropped with it.
#[derive(Debug, Clone)]
pub(crate) struct LowPriority {
    tasks: mpsc::UnboundedSender<Task>,
}

impl LowPriority {
    /// Starts the thread, named `name`.
    ///
    /// # Errors
    /// When the runtime or the thread cannot be started.
    pub(crate) fn start(name: &str) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (tasks, mut queue) = mpsc::unbounded_channel::<Task>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                lower_priority();
                runtime.block_on(async move {
                    while let Some(task) = queue.recv().await {
                        tokio::spawn(task);
                    }
                });
            })?;
        Ok(Self { tasks })
    }

    /// Runs `work` on the thread and waits for its output; `None` when the thread has ended.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let (done, output) = oneshot::channel();
        self.tasks
            .send(Box::pin(async move {
                // The caller may have stopped waiting; the work is done either way.
                let _ = done.send(work.await);
            }))
            .ok()?;
        output.await.ok()
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux the nice value belongs to a thread, not to the process: this lowers this
    // thread (and the threads it starts) alone.
    let this = rustix::thread::gettid();
    if let Err(err) = rustix::process::setpriority_process(Some(this), LOWEST) {
        tracing::warn!(%err, "media: the download thread keeps its normal priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {
    // Elsewhere a nice value is the whole process's: the thread keeps the normal priority.
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_at_the_lowest_priority_and_the_caller_keeps_its_own() {
        let background = LowPriority::start("test-low-priority").expect("start");
        let nice_of_this_thread =
            || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let here = nice_of_this_thread().expect("getpriority");
        let there = background
            .run(async move { nice_of_this_thread() })
            .await
            .expect("the thread runs")
            .expect("getpriority");
        assert_eq!(there, LOWEST);
        let in_blocking = background
            .run(async move {
                tokio::task::spawn_blocking(nice_of_this_thread)
                    .await
                    .expect("blocking task")
            })
            .await
            .expect("the thread runs")
            .expect("getpriority");
        assert_eq!(in_blocking, LOWEST, "blocking threads inherit the priority");
        assert_eq!(nice_of_this_thread().expect("getpriority"), here);
    }
}
