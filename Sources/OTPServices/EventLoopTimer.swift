import NIOCore
import NIOPosix

/// Sleeps on an event loop's timer, which is taken off the loop as soon as the waiting task is
/// cancelled (see `Deadline.sleep`).
package enum EventLoopTimer {
    @Sendable package static func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(
            in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        ) {}
        try await withTaskCancellationHandler {
            try await timer.futureResult.get()
        } onCancel: {
            timer.cancel()
        }
    }
}
