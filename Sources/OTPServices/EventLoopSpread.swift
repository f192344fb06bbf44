import NIOCore
import NIOPosix
import OTPWorker

/// Spreads the worker's jobs over NIO's event loops. With NIO as the global executor (`otp`'s
/// `OTPCommand`) a task runs on the loop of the thread that enqueued or resumed it, so every job of
/// a claim started on the claiming thread, opened its provider connection there (AsyncHTTPClient
/// opens on the current loop), and came back there: a drain used one core of two.
package enum EventLoopSpread {
    /// Moves each job to the singleton group's next loop: resumed from that loop's thread, the task
    /// goes on there. Without NIO as the global executor it is only a hop.
    package static let jobs = JobPlacement {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        guard !loop.inEventLoop else { return }
        await withCheckedContinuation { (resumed: CheckedContinuation<Void, Never>) in
            loop.execute { resumed.resume() }
        }
    }
}
