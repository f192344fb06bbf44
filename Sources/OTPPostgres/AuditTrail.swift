import Crypto
import Foundation
import Logging
import PostgresNIO

/// The audit trail's hash chain: sealing new events, and checking the chain end to end.
package struct AuditTrail: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Seals committed events in id order, in batches, up to the highest id no event can still
    /// commit below; returns how many. Waits up to `settling` for the transactions running now to
    /// end: one of them may have drawn a lower id than a row already committed, and sealing past
    /// that id would leave it below the chain's end once it commits.
    package func seal(batchSize: Int = 5000, settling: Duration = .seconds(20)) async throws -> Int {
        return try await DatabaseFaults.mapping {
            guard let bound = try await settledBound(within: settling) else { return 0 }
            var total = 0
            while true {
                let rows = try await client.query(
                    "SELECT otp.seal_events(\(batchSize)::integer, \(bound)::bigint)", logger: logger)
                var sealed = 0
                for try await count in rows.decode(Int.self) { sealed = count }
                total += sealed
                if sealed < batchSize { return total }
            }
        }
    }

    /// The highest committed event id, once every transaction in this database that was running
    /// when it was read has ended (nil when some still run after `within`). Every event with a
    /// lower id that is not yet visible belongs to one of those transactions: its id was drawn
    /// before the committed one's, so its transaction began before this read. One that still has
    /// no transaction id when the wait ends has written nothing, so it holds no event: an insert
    /// takes its transaction id in the statement that draws the event's id.
    private func settledBound(within settling: Duration) async throws -> Int64? {
        var bound: Int64 = 0
        var running: [String] = []
        let rows = try await client.query(
            """
            SELECT coalesce((SELECT max(id) FROM otp.events), 0),
                coalesce((SELECT array_agg(virtualxid) FROM pg_locks
                          WHERE locktype = 'virtualxid' AND mode = 'ExclusiveLock' AND granted
                              AND pid <> pg_backend_pid()
                              AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())),
                         '{}')
            """, logger: logger)
        for try await (highest, transactions) in rows.decode((Int64, [String]).self) {
            (bound, running) = (highest, transactions)
        }
        let deadline = ContinuousClock.now + settling
        while !running.isEmpty {
            let writers = try await stillRunning(running)
            running = writers.map(\.transaction)
            if running.isEmpty { break }
            if ContinuousClock.now >= deadline {
                let writing = writers.filter(\.hasTransactionID).map(\.transaction)
                if writing.isEmpty { break }
                logger.warning(
                    "audit seal: transactions still running, sealing waits for the next run",
                    metadata: ["transactions": "\(writing.joined(separator: ","))"])
                return nil
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return bound
    }

    /// Which of `transactions` (virtual transaction ids) still run, and whether each holds a
    /// transaction id (has written).
    private func stillRunning(_ transactions: [String]) async throws -> [(transaction: String, hasTransactionID: Bool)]
    {
        let rows = try await client.query(
            """
            SELECT l.virtualxid, EXISTS (
                SELECT 1 FROM pg_locks x WHERE x.locktype = 'transactionid' AND x.mode = 'ExclusiveLock'
                    AND x.granted AND x.virtualtransaction = l.virtualxid)
            FROM pg_locks l
            WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
                AND l.virtualxid = ANY(\(transactions)::text[])
            """, logger: logger)
        var found: [(transaction: String, hasTransactionID: Bool)] = []
        for try await (transaction, written) in rows.decode((String, Bool).self) {
            found.append((transaction, written))
        }
        return found
    }

    package struct Verdict: Sendable, Codable, Equatable {
        /// Sealed events checked.
        package var checked = 0
        /// The first event whose link or hash does not hold, and what is wrong with it.
        package var brokenAt: Int64?
        package var reason: String?

        package var intact: Bool { brokenAt == nil }

        package init(checked: Int = 0, brokenAt: Int64? = nil, reason: String? = nil) {
            self.checked = checked
            self.brokenAt = brokenAt
            self.reason = reason
        }
    }

    /// Walks the sealed events in id order (from `since`, a UTC day, when given) and recomputes
    /// every hash: a row changed, removed or slipped in shows as the first broken link. The links
    /// of rows that retention dropped between kept ones (`otp.event_links_pruned`) are walked too;
    /// with their contents gone, only their place in the chain is checked.
    package func verify(since: String? = nil) async throws -> Verdict {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                WITH kept AS (
                    SELECT e.id, e.chain_prev, e.chain_hash, otp.event_text(e) AS text FROM otp.events e
                    WHERE e.chain_hash IS NOT NULL AND (\(since)::date IS NULL OR e.at >= \(since)::date::timestamptz)
                )
                SELECT id, chain_prev, chain_hash, text FROM kept
                UNION ALL
                SELECT p.id, p.chain_prev, p.chain_hash, NULL FROM otp.event_links_pruned p
                WHERE p.id > (SELECT min(id) FROM kept)
                ORDER BY 1
                """, logger: logger)
            var verdict = Verdict()
            var previousHash: Data? = nil
            var walked = 0
            for try await (id, chainPrev, chainHash, text) in rows.decode((Int64, Data?, Data, Data?).self) {
                if walked > 0, chainPrev != previousHash {
                    return Verdict(
                        checked: verdict.checked, brokenAt: id, reason: "does not follow the event before it")
                }
                walked += 1
                previousHash = chainHash
                guard let text else { continue }
                var message = chainPrev ?? Data()
                message.append(text)
                guard Data(SHA256.hash(data: message)) == chainHash else {
                    return Verdict(checked: verdict.checked, brokenAt: id, reason: "its contents do not match its hash")
                }
                verdict.checked += 1
            }
            if let problem = try await unsealedProblem() {
                return Verdict(checked: verdict.checked, brokenAt: problem.id, reason: problem.reason)
            }
            return verdict
        }
    }

    /// How long a committed event may wait for the sealer (it runs every minute) before its
    /// absence from the chain is a problem.
    static let sealingGrace = "5 minutes"

    /// An event the chain will never take or has not taken in time: one whose id is below the
    /// chain's end (slipped in past the sealer's bound), else the first one older than
    /// `sealingGrace` and still unsealed.
    private func unsealedProblem() async throws -> (id: Int64, reason: String)? {
        let rows = try await client.query(
            """
            SELECT min(e.id), 'is unsealed with an id below the sealed chain''s end (out of order)'
            FROM otp.events e
            WHERE e.chain_hash IS NULL AND e.id < (SELECT max(id) FROM otp.events WHERE chain_hash IS NOT NULL)
            UNION ALL
            SELECT min(e.id), 'is older than \(unescaped: Self.sealingGrace) and still unsealed'
            FROM otp.events e
            WHERE e.chain_hash IS NULL AND e.at < now() - interval '\(unescaped: Self.sealingGrace)'
            """, logger: logger)
        for try await (id, reason) in rows.decode((Int64?, String).self) {
            if let id { return (id, reason) }
        }
        return nil
    }
}

/// The database roles of the contract: the owner migrates; serve and work log in as a member of
/// `otp_runtime`.
package enum DatabaseRoles {
    /// Makes `user` a login member of `otp_runtime` (creating it with `password` when it does not
    /// exist). Run as the owner, after the migrations.
    package static func grantRuntime(to user: String, password: String?, client: PostgresClient, logger: Logger)
        async throws
    {
        let rows = try await client.query(
            """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(user)) THEN NULL
                WHEN \(password)::text IS NULL THEN format('CREATE ROLE %I LOGIN', \(user)::text)
                ELSE format('CREATE ROLE %I LOGIN PASSWORD %L', \(user)::text, \(password)::text) END,
                format('GRANT otp_runtime TO %I', \(user)::text)
            """, logger: logger)
        for try await (create, grant) in rows.decode((String?, String).self) {
            if let create { try await client.query(PostgresQuery(unsafeSQL: create), logger: logger) }
            try await client.query(PostgresQuery(unsafeSQL: grant), logger: logger)
        }
    }

    /// How long the audit trail keeps events (`OTP_RETENTION_DAYS`): only the owner may set it.
    package static func setRetention(days: Int, client: PostgresClient, logger: Logger) async throws {
        try await client.query("UPDATE otp.audit_policy SET retention_days = \(days)", logger: logger)
    }
}
