import Foundation
import Logging
import Metrics
import OTPCore
import ServiceLifecycle
import Synchronization

/// Runs one kind of job: claims as many as it has free slots, works each with no transaction
/// open, records the outcomes in batches. Wakes on NOTIFY and polls as a fallback; periodically
/// requeues jobs whose worker died and reports the queue's depth.
///
/// On graceful shutdown it stops claiming and lets the jobs in flight finish (each is bounded by
/// its own timeout). Jobs of a worker that dies are requeued by any worker once their lease runs out.
struct QueueWorker<Job: Sendable, Outcome: Sendable> {
    struct Configuration: Sendable {
        var concurrency: Int
        var lease: Duration
        var pollInterval: Duration
        var requeueInterval: Duration
        var workerID: String
        /// Awaited first in each job's task: where the job runs (see `JobPlacement`).
        var placement: JobPlacement
    }

    let queue: any JobQueue<Job, Outcome>
    let configuration: Configuration
    let logger: Logger
    let work: @Sendable (Job) async -> Outcome

    /// The most outcomes one statement records.
    static var maximumOutcomeBatch: Int { 256 }
    static var claimDeadline: Deadline { Deadline(.seconds(10)) }

    func run() async {
        let outcomes = OutcomeBatcher<Outcome>(maximumBatch: Self.maximumOutcomeBatch)
        await withTaskGroup(of: Void.self) { recorder in
            recorder.addTask { await outcomes.run(write: record) }
            await claimAndWork(recordingIn: outcomes)
            // Every job is recorded by now; the recorder may stop.
            outcomes.close()
        }
    }

    /// Claims as many jobs as there are free slots each time it is woken, until graceful shutdown;
    /// then waits for the jobs in flight.
    private func claimAndWork(recordingIn outcomes: OutcomeBatcher<Outcome>) async {
        let (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let inFlight = SlotCounter()
        await withTaskGroup(of: Void.self) { wakeSources in
            wakeSources.addTask { await listen { ring.yield() } }
            wakeSources.addTask { await poll { ring.yield() } }
            ring.yield()
            await withDiscardingTaskGroup { jobs in
                for await _ in doorbell.cancelOnGracefulShutdown() {
                    let free = configuration.concurrency - inFlight.count.withLock { $0 }
                    guard free > 0 else { continue }
                    let claimed: [Job]
                    do {
                        // A claim stuck on a database that went away must not stop the loop; if
                        // it committed after all, its leases run out and the jobs are requeued.
                        let (lease, workerID) = (configuration.lease, configuration.workerID)
                        claimed = try await Self.claimDeadline.run {
                            try await queue.claim(limit: free, lease: lease, workerID: workerID)
                        }
                    } catch {
                        logger.warning(
                            "claim failed",
                            metadata: ["kind": "\(queue.kind)", "error": "\(String(reflecting: error))"])
                        continue
                    }
                    inFlight.count.withLock { $0 += claimed.count }
                    for job in claimed {
                        jobs.addTask { [placement = configuration.placement] in
                            await placement.place()
                            await outcomes.record(await work(job))
                            inFlight.count.withLock { $0 -= 1 }
                            ring.yield()
                        }
                    }
                    // A full batch means more may be waiting: look again without waiting for a bell.
                    if claimed.count == free { ring.yield() }
                }
            }
            wakeSources.cancelAll()
        }
    }

    /// LISTEN for the wake-up hint, reconnecting after errors until cancelled.
    private func listen(_ wake: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                try await queue.listenForWork(wake)
            } catch {
                if Task.isCancelled { return }
                logger.debug(
                    "listen interrupted", metadata: ["kind": "\(queue.kind)", "error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The fallback poll, the periodic requeue of jobs whose worker died, and the depth gauges.
    private func poll(_ wake: @escaping @Sendable () -> Void) async {
        let clock = ContinuousClock()
        var nextRequeue = clock.now
        let depth = Gauge(label: "otp_\(queue.kind)_queue_depth")
        let oldestAge = Gauge(label: "otp_\(queue.kind)_queue_oldest_age_seconds")
        while !Task.isCancelled {
            if clock.now >= nextRequeue {
                nextRequeue = clock.now.advanced(by: configuration.requeueInterval)
                if let count = try? await queue.requeueExpiredLeases(), count > 0 {
                    logger.notice(
                        "requeued jobs whose lease ran out", metadata: ["kind": "\(queue.kind)", "count": "\(count)"])
                }
                if let backlog = try? await queue.backlog() {
                    depth.record(backlog.queued)
                    oldestAge.record(backlog.oldestAgeSeconds)
                }
            }
            wake()
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    func record(_ batch: [Outcome]) async {
        do {
            try await queue.finish(batch, workerID: configuration.workerID)
        } catch {
            guard batch.count == 1 else {
                // An outcome the database refuses must not take the rest of its batch down with it.
                for outcome in batch { await record([outcome]) }
                return
            }
            // The lease will run out and the job will be tried again.
            logger.error(
                "could not record an outcome",
                metadata: ["kind": "\(queue.kind)", "error": "\(String(reflecting: error))"])
        }
    }
}

/// Jobs in flight, shared by the claim loop and the job tasks.
final class SlotCounter: Sendable {
    let count = Mutex(0)
}

/// Where a claimed job's task runs. The tasks of one claim all start on the thread that claimed
/// them; `otp` moves each to the next of NIO's event loops (`EventLoopSpread`), so that jobs, and
/// the provider connections they open on the loop they run on, spread over the machine's cores.
package struct JobPlacement: Sendable {
    package let place: @Sendable () async -> Void

    package init(_ place: @escaping @Sendable () async -> Void) { self.place = place }

    /// Each job runs where its task starts.
    package static let stay = JobPlacement {}
}
