import Foundation
import Logging
import OTPCore
import PostgresNIO
import ServiceLifecycle

/// The verifications and their delivery jobs in PostgreSQL.
///
/// A send is one statement (verification, delivery and events) in an explicit transaction, with
/// its limit charges; it is answered only once COMMIT has answered. Sends that arrive together share
/// one transaction, and so do verifies (`GroupCommit`). Verify and resend lock the verification row
/// with `FOR UPDATE`, so concurrent calls on one verification are decided one after another.
package struct PostgresVerificationStore: VerificationStore {
    let client: PostgresClient
    let logger: Logger
    let notifier: WorkNotifier
    let sends: GroupCommit<SendBatchStatement.Request, SendOutcome>
    let verifies: GroupCommit<VerifyBatch.Request, VerifyDecision?>

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.notifier = WorkNotifier(client: client, logger: logger)
        self.sends = GroupCommit(operation: "otp.send_batch") { requests, end in
            let outcome = await WatchedTransaction.answer(by: end, logger: logger) { watch in
                await Self.write(requests, watch: watch, client: client, logger: logger)
            }
            switch outcome {
            case .answered(let answers): return answers
            case .nothingWritten: return requests.map { _ in .failure(StoreUnavailable()) }
            case .over: return await Self.readBack(requests, client: client, logger: logger)
            case .unknown:
                return Self.outcomeUnknown(
                    requests, error: StoreUnavailable(reason: "the COMMIT did not answer"), logger: logger)
            }
        }
        self.verifies = GroupCommit(operation: "otp.verify_batch") { requests, end in
            let outcome = await WatchedTransaction.answer(by: end, logger: logger) { watch in
                await Self.decide(requests, watch: watch, client: client, logger: logger)
            }
            // A batch given up past its deadline: its decisions, if it made any, are not known here.
            guard case .answered(let answers) = outcome else {
                return requests.map { _ in .failure(StoreUnavailable()) }
            }
            return answers
        }
    }

    /// The group-commit flushers and the workers' wake-up, which must run (in the service group)
    /// for sends and verifies to be written.
    package var flushers: [any Service] { [sends, verifies, notifier] }

    package func send(
        _ new: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], fraud: FraudCheck?,
        spend: SpendCharge?, actor: Caller
    ) async throws -> SendOutcome {
        // In place: the group commit answers a cancelled request itself, with the truth.
        return try await DatabaseFaults.mappingInPlace {
            let outcome = try await sends.submit(
                .init(
                    new: new, charges: charges, actor: actor, idempotency: idempotency, fraud: fraud, spend: spend,
                    traceParent: TraceParent.current()))
            if case .created = outcome { notifier.notify() }
            return outcome
        }
    }

    /// A batch of sends, alone or many: one `otp.send_batch` in one transaction, the one way a send
    /// is written (HTTP sends with and without an idempotency key alike). The requests it deferred
    /// (a second one with a key already in the batch) are written after it, each as a batch of one.
    /// Always an explicit transaction: a lone statement commits at the protocol's Sync, after its
    /// rows have reached us, so a connection killed in between would have us answer 202 for a send
    /// that was rolled back. COMMIT's answer is the proof.
    ///
    /// When the batch fails as a whole: a bad row rolled it back, and each request is tried again
    /// as a batch of one, one after another, so each gets its own answer. A lost connection may
    /// have lost COMMIT's answer after the commit, so the batch's rows are read back first: a send
    /// that is there was accepted; only the others are tried again.
    static func write(
        _ requests: [SendBatchStatement.Request], watch: WatchedTransaction = WatchedTransaction(),
        client: PostgresClient, logger: Logger
    ) async -> [Result<SendOutcome, any Error>] {
        var answers: [Result<SendOutcome, any Error>] = []
        answers.reserveCapacity(requests.count)
        let failure: any Error
        do {
            let batch = try await writeBatch(requests, watch: watch, client: client, logger: logger)
            for (request, answer) in zip(requests, batch) {
                switch answer {
                case .decided(let result): answers.append(result.mapError { $0 })
                case .deferred: answers.append(await writeAlone(request, watch: watch, client: client, logger: logger))
                }
            }
            return answers
        } catch {
            failure = error
        }
        var written: [String: SendResult] = [:]
        if DatabaseFaults.isUnavailable(failure) {
            do {
                written = try await Self.written(requests, client: client, logger: logger)
            } catch {
                return outcomeUnknown(requests, error: error, logger: logger)
            }
        }
        guard requests.count > 1 || !written.isEmpty else { return [.failure(failure)] }
        logger.debug("a batch of sends failed; each is tried on its own", metadata: ["error": "\(failure)"])
        for request in requests {
            if let result = written[request.new.id] {
                answers.append(.success(.created(result)))
            } else if requests.count == 1 {
                answers.append(.failure(failure))
            } else {
                answers.append(await writeAlone(request, watch: watch, client: client, logger: logger))
            }
        }
        return answers
    }

    private static func writeBatch(
        _ requests: [SendBatchStatement.Request], watch: WatchedTransaction, client: PostgresClient, logger: Logger
    ) async throws -> [SendBatchStatement.Answer] {
        try await watch.run(client: client, logger: logger) { connection in
            try await SendBatchStatement(requests: requests).run(on: connection, logger: logger)
        }
    }

    /// One send as a batch of one (a request alone in a batch is never deferred).
    private static func writeAlone(
        _ request: SendBatchStatement.Request, watch: WatchedTransaction, client: PostgresClient, logger: Logger
    ) async -> Result<SendOutcome, any Error> {
        do {
            guard
                case .decided(let result) = try await writeBatch(
                    [request], watch: watch, client: client, logger: logger
                )
                .first
            else { throw PostgresStoreError.noRowReturned }
            return result.mapError { $0 }
        } catch {
            return .failure(error)
        }
    }

    /// What a batch given up past its deadline wrote, read back once no transaction of it is open
    /// or can begin: a send whose verification is there was accepted (`202`), one that is not never
    /// will be (`503`). Only when the database cannot be read either is the outcome unknown, and
    /// answered `503`: the one case a client may see `503` for a send that was written.
    static func readBack(_ requests: [SendBatchStatement.Request], client: PostgresClient, logger: Logger) async
        -> [Result<SendOutcome, any Error>]
    {
        do {
            let written = try await Self.written(requests, client: client, logger: logger)
            return requests.map { request in
                guard let result = written[request.new.id] else {
                    return .failure(StoreUnavailable())
                }
                return .success(.created(result))
            }
        } catch {
            return outcomeUnknown(requests, error: error, logger: logger)
        }
    }

    /// Sends whose batch may or may not have committed, and could not be read back: `503`, and a
    /// warning the operator (and the fault tests) can count.
    private static func outcomeUnknown(_ requests: [SendBatchStatement.Request], error: any Error, logger: Logger)
        -> [Result<SendOutcome, any Error>]
    {
        logger.warning(
            "a batch of sends could not be confirmed or read back: outcome unknown",
            metadata: ["sends": "\(requests.count)", "error": "\(error)"])
        return requests.map { _ in .failure(StoreUnavailable(reason: "outcome unknown")) }
    }

    /// The answers of the batch's sends that are in the database, by verification id (within
    /// 500 ms: it may run after a request's deadline).
    static func written(_ requests: [SendBatchStatement.Request], client: PostgresClient, logger: Logger)
        async throws -> [String: SendResult]
    {
        let ids = requests.map(\.new.id)
        let stored = try await Deadline(.milliseconds(500)).run {
            try await DatabaseFaults.mapping {
                let rows = try await client.query(
                    "SELECT id, expires_at, resend_available_at FROM otp.verifications WHERE id = ANY(\(ids))",
                    logger: logger)
                var stored: [String: (Date, Date)] = [:]
                for try await (id, expiresAt, resendAvailableAt) in rows.decode((String, Date, Date).self) {
                    stored[id] = (expiresAt, resendAvailableAt)
                }
                return stored
            }
        }
        var written: [String: SendResult] = [:]
        for request in requests {
            let new = request.new
            guard let (expiresAt, resendAvailableAt) = stored[new.id] else { continue }
            written[new.id] = SendResult(
                verificationID: new.id, status: .pending, channel: new.channel, recipient: new.recipient,
                expiresAt: expiresAt, resendAvailableAt: resendAvailableAt, deliveryStatus: .queued)
        }
        return written
    }

    package func verify(
        verificationID: String, appID: String, actor: Caller, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision? {
        return try await DatabaseFaults.mappingInPlace {
            try await verifies.submit(
                VerifyBatch.Request(
                    verificationID: verificationID, appID: appID, actor: actor, gate: gate, onFailure: onFailure,
                    decide: decide))
        }
    }

    /// A batch of verifies in one transaction. The requests it deferred (a second one on a
    /// verification or a recipient) are decided after it, each on its own. When it fails as a whole,
    /// nothing of it was committed, and each request is decided again on its own, one after another.
    static func decide(
        _ requests: [VerifyBatch.Request], watch: WatchedTransaction = WatchedTransaction(), client: PostgresClient,
        logger: Logger
    ) async -> [Result<VerifyDecision?, any Error>] {
        guard requests.count > 1 else {
            return [await decideAlone(requests[0], watch: watch, client: client, logger: logger)]
        }
        var answers: [Result<VerifyDecision?, any Error>] = []
        answers.reserveCapacity(requests.count)
        do {
            let batch = try await watch.run(client: client, logger: logger) { connection in
                try await VerifyBatch(requests: requests).run(on: connection, logger: logger)
            }
            for answer in batch {
                switch answer {
                case .decided(let result): answers.append(result.mapError { $0 })
                case .deferred(let request):
                    answers.append(await decideAlone(request, watch: watch, client: client, logger: logger))
                }
            }
        } catch {
            logger.debug("a batch of verifies failed; each is decided on its own", metadata: ["error": "\(error)"])
            answers.removeAll()
            for request in requests {
                answers.append(await decideAlone(request, watch: watch, client: client, logger: logger))
            }
        }
        return answers
    }

    static func decideAlone(
        _ request: VerifyBatch.Request, watch: WatchedTransaction, client: PostgresClient, logger: Logger
    ) async -> Result<VerifyDecision?, any Error> {
        do {
            let answers = try await watch.run(client: client, logger: logger) { connection in
                try await VerifyBatch(requests: [request]).run(on: connection, logger: logger)
            }
            guard case .decided(let result) = answers.first else { throw PostgresStoreError.noRowReturned }
            return result.mapError { $0 }
        } catch {
            return .failure(error)
        }
    }

    package func resend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult {
        return try await DatabaseFaults.mapping {
            let result = try await planResend(verificationID: verificationID, appID: appID, actor: actor, plan: plan)
            notifier.notify()
            return result
        }
    }

    private func planResend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult {
        try await client.withTransaction(logger: logger) { connection in
            guard let locked = try await lock(verificationID: verificationID, appID: appID, on: connection) else {
                throw OTPFailure.verificationNotFound
            }
            var context = ResendContext(
                snapshot: locked.snapshot, channel: locked.channel, codeLength: locked.codeLength,
                sealedCode: locked.sealedCode, now: locked.now, recipient: locked.recipient)
            context.transaction = locked.transaction
            let resend = try plan(context)
            try await PostgresRateLimiter.charge(resend.charges, on: connection, logger: logger)
            let rows = try await connection.query(
                try """
                WITH u AS (
                    UPDATE otp.verifications SET sends = sends + 1, channel = \(resend.channel.rawValue),
                        country = \(resend.country),
                        code_digest = coalesce(\(resend.newCodeDigest)::bytea, code_digest),
                        expires_at = CASE WHEN \(resend.newCodeDigest)::bytea IS NULL THEN expires_at
                            ELSE now() + make_interval(secs => ttl_seconds) END,
                        resend_available_at = now() + make_interval(secs => \(Double(resend.resendCooldownSeconds))),
                        updated_at = now()
                    WHERE id = \(verificationID)
                    RETURNING id, app_id, channel, recipient, sender, expires_at, resend_available_at
                ), c AS (
                    UPDATE otp.deliveries SET state = 'canceled', sealed_code = NULL, finished_at = now(),
                        updated_at = now()
                    WHERE verification_id = \(verificationID) AND state = 'queued'
                ), d AS (
                    INSERT INTO otp.deliveries (verification_id, app_id, channel, recipient, sender, sealed_code,
                        expires_at, message_template, template_id, template_version, locale, whatsapp_template,
                        whatsapp_language)
                    -- The same message as the verification's first delivery.
                    SELECT u.id, u.app_id, u.channel, u.recipient, u.sender, \(resend.sealedCode), u.expires_at,
                        first.message_template, first.template_id, first.template_version, first.locale,
                        first.whatsapp_template, first.whatsapp_language
                    FROM u LEFT JOIN LATERAL (
                        SELECT * FROM otp.deliveries x WHERE x.verification_id = u.id ORDER BY x.id LIMIT 1
                    ) first ON true
                    RETURNING id
                ), e AS (
                    INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
                    SELECT x.event, u.app_id, u.id, \(actor.keyID), \(actor.ip)::text, x.details
                    FROM u, d, LATERAL (VALUES
                        (\(EventKind.resendRequested.rawValue)::text, jsonb_build_object('channel', u.channel)),
                        (\(EventKind.deliveryQueued.rawValue)::text, jsonb_build_object('delivery_id', d.id, 'channel', u.channel))
                    ) AS x (event, details)
                )
                SELECT u.recipient, u.expires_at, u.resend_available_at
                FROM u
                """, logger: logger)
            for try await (recipient, expiresAt, resendAvailableAt) in rows.decode((String, Date, Date).self) {
                return SendResult(
                    verificationID: verificationID, status: .pending, channel: resend.channel, recipient: recipient,
                    expiresAt: expiresAt, resendAvailableAt: resendAvailableAt, deliveryStatus: .queued)
            }
            throw PostgresStoreError.noRowReturned
        }
    }

    package func report(verificationID: String, appID: String) async throws -> VerificationReport? {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT \(unescaped: VerificationRows.columns)
                FROM otp.verifications v WHERE v.id = \(verificationID) AND v.app_id = \(appID)
                """, logger: logger)
            for try await row in rows { return try VerificationRows.report(row.makeRandomAccess()) }
            return nil
        }
    }

    package func recordRefusal(_ refusal: Refusal, appID: String, verificationID: String?, actor: Caller) async {
        _ = try? await client.query(
            EventStatements.insert(
                refusal.eventKind, appID: appID, verificationID: verificationID, actor: actor, details: refusal.details),
            logger: logger)
    }

    package func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus] {
        return try await DatabaseFaults.mapping {
            try await PostgresRateLimiter.usage(of: charges, client: client, logger: logger)
        }
    }

    private func lock(verificationID: String, appID: String, on connection: PostgresConnection) async throws
        -> LockedVerification?
    {
        let statement = LockVerificationStatement(verificationID: verificationID, appID: appID)
        for try await locked in try await connection.execute(statement, logger: logger) { return locked }
        return nil
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

enum PostgresStoreError: Error {
    case noRowReturned
}
