import Logging
import OTPCore
import PostgresNIO

/// What every job table of the queue shares (`otp.deliveries`, `otp.webhook_events`): the
/// `queued`/`sending` states, `run_at`, the lease columns, and a NOTIFY channel that wakes workers.
/// Each kind's queue keeps its own claim and finish statements and hands the rest to this.
struct JobTable: Sendable {
    /// The table's name in schema `otp`; a constant of this module, never input.
    let table: String
    let channel: String
    let client: PostgresClient
    let logger: Logger

    /// Puts jobs whose lease ran out (their worker died) back in the queue; returns how many.
    func requeueExpiredLeases() async throws -> Int {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                UPDATE otp.\(unescaped: table) SET state = 'queued', locked_until = NULL, locked_by = NULL,
                    run_at = now(), updated_at = now()
                WHERE state = 'sending' AND locked_until < now()
                RETURNING id
                """, logger: logger)
            return try await rows.collect().count
        }
    }

    /// How many jobs wait, and for how long the oldest due one has waited (seconds).
    func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double) {
        return try await DatabaseFaults.mapping {
            let rows = try await client.query(
                """
                SELECT count(*)::bigint,
                    coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
                FROM otp.\(unescaped: table) WHERE state = 'queued'
                """, logger: logger)
            for try await (count, age) in rows.decode((Int, Double).self) { return (count, age) }
            return (0, 0)
        }
    }

    /// Claims with `statement` (the kind's own `UPDATE ... FOR UPDATE SKIP LOCKED`), in id order.
    func claim<Statement: PostgresPreparedStatement & Sendable>(
        _ statement: Statement, id: @escaping @Sendable (Statement.Row) -> Int64
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await DatabaseFaults.mapping {
            var claimed: [Statement.Row] = []
            for try await job in try await client.execute(statement, logger: logger) { claimed.append(job) }
            return claimed.sorted { id($0) < id($1) }
        }
    }

    /// Tells the workers that new work may be due.
    func wakeWorkers() async throws {
        try await client.query("SELECT pg_notify(\(channel), '')", logger: logger)
    }

    func listenForWork(_ wake: @Sendable () -> Void) async throws {
        try await DatabaseFaults.mappingInPlace {
            try await client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    for try await _ in notifications { wake() }
                }
            }
        }
    }
}

/// A job queue on a `JobTable`: what every kind does alike comes from the table.
protocol QueueOnJobTable: JobQueue {
    var jobs: JobTable { get }
}

extension QueueOnJobTable {
    package func requeueExpiredLeases() async throws -> Int { try await jobs.requeueExpiredLeases() }

    package func backlog() async throws -> (queued: Int, oldestAgeSeconds: Double) { try await jobs.backlog() }

    package func listenForWork(_ wake: @Sendable () -> Void) async throws { try await jobs.listenForWork(wake) }
}
