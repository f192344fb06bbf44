/// Group commit: the requests that arrive while earlier ones are being written go to the database
/// together, as one batch in one transaction (sends and verifies each have one).
///
/// No request waits for a timer: one that finds fewer than `maxFlushing` batches in flight goes at
/// once, alone if it is alone (an idle service answers as fast as without batching); the others
/// queue and leave together, up to `maxBatch`, when a batch in flight comes back.
actor GroupCommit<Request: Sendable, Answer: Sendable> {
    typealias Flush = @Sendable ([Request]) async -> [Result<Answer, any Error>]

    private struct Waiting {
        var request: Request
        var answer: CheckedContinuation<Answer, any Error>
    }

    private let maxBatch: Int
    private let maxFlushing: Int
    private let flush: Flush
    private var waiting: [Waiting] = []
    private var flushing = 0

    /// `flush` writes one batch and answers each request in its order.
    init(maxBatch: Int = 32, maxFlushing: Int = 4, flush: @escaping Flush) {
        self.maxBatch = maxBatch
        self.maxFlushing = maxFlushing
        self.flush = flush
    }

    func submit(_ request: Request) async throws -> Answer {
        try await withCheckedThrowingContinuation { answer in
            waiting.append(Waiting(request: request, answer: answer))
            startFlushes()
        }
    }

    private func startFlushes() {
        while flushing < maxFlushing, !waiting.isEmpty {
            let batch = Array(waiting.prefix(maxBatch))
            waiting.removeFirst(batch.count)
            flushing += 1
            Task { await run(batch) }
        }
    }

    private func run(_ batch: [Waiting]) async {
        var answers = await flush(batch.map(\.request))
        // One answer for each, whatever the flush did: a continuation left waiting would hold its
        // request forever.
        while answers.count < batch.count { answers.append(.failure(PostgresStoreError.noRowReturned)) }
        for (waiting, answer) in zip(batch, answers) { waiting.answer.resume(with: answer) }
        flushing -= 1
        startFlushes()
    }
}
