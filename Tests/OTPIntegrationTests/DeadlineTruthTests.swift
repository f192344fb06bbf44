import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import OTPAPI
import OTPCore
import OTPServices
import OTPTesting
import PostgresNIO
import Testing

/// A send whose request deadline passes while the database holds it is answered with the truth:
/// `202` and stored (its batch was being written, and committed), or `503` and absent (it was still
/// in line, and left it). Never `503` for a send that is there, which the client would send again.
@Suite struct DeadlineTruthTests {
    struct Answer: Sendable {
        var recipient: String
        var status: Int
        var seconds: Double
        var verificationID: String?
    }

    /// The API with the given request deadline, composed as `otp serve` composes it: its database
    /// calls go through a runner of abandonable calls, so a request stops waiting at its deadline.
    static func withAPI(
        _ world: TestApp, deadline: Duration, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var services = world.services
        services.requestDeadline = deadline
        let dependencies = services.apiDependencies(receipts: world.receiptSettings)
        let calls = AbandonableCalls()
        let application = Application(
            router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: dependencies.backgroundServices
                + [AbandonableCallsService(calls: calls, leaveStranded: { _ in })])
        try await AbandonableCalls.$current.withValue(calls) {
            try await application.test(.router) { client in try await body(client) }
        }
    }

    @Test func aSendPastItsDeadlineIsAnswered202AndStoredOr503AndAbsent() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            // Long enough for a batch to get its connection on a loaded machine, short next to the
            // time the lock is held.
            try await Self.withAPI(world, deadline: .seconds(3)) { client in
                // Four connections open (a batch each) and the key cached before the database is held.
                try await withThrowingTaskGroup(of: Void.self) { warm in
                    for index in 0..<4 {
                        warm.addTask { _ = try await world.send(client, recipient: "+551199976100\(index)") }
                    }
                    try await warm.waitForAll()
                }
                let locked = StopFlag()
                let issued = StopFlag()
                @Sendable func waitingOnLocks() async throws -> Int {
                    try await world.scalar(
                        """
                        SELECT count(*)::int FROM pg_stat_activity
                        WHERE wait_event_type = 'Lock' AND datname = current_database()
                        """)
                }
                @Sendable func send(_ index: Int) async throws -> [Answer] {
                    let recipient = "+55119997600\(String(format: "%02d", index))"
                    let start = ContinuousClock.now
                    let response = try await client.post(
                        "/otp/send", jsonBody(["appid": world.app.id, "recipient": recipient]),
                        headers: world.basicAuth)
                    let elapsed = ContinuousClock.now - start
                    return [
                        Answer(
                            recipient: recipient, status: Int(response.status.code),
                            seconds: Double(elapsed.components.seconds)
                                + Double(elapsed.components.attoseconds) / 1e18,
                            verificationID: response.json["verification_id"] as? String)
                    ]
                }
                let answers = try await withThrowingTaskGroup(of: [Answer].self) { group in
                    group.addTask {
                        // Inserts into verifications wait for this lock: it is held until the four
                        // batches a process writes at once are blocked on it and the other sends are
                        // in line behind them, and 4 s more, well past the 3 s deadline.
                        try await world.client.withTransaction(logger: quietLogger) { connection in
                            try await connection.query(
                                "LOCK TABLE otp.verifications IN SHARE MODE", logger: quietLogger)
                            locked.set()
                            try await waitUntil(seconds: 60) { issued.isSet }
                            try await Task.sleep(for: .milliseconds(4000))
                        }
                        return []
                    }
                    try await waitUntil(seconds: 10) { locked.isSet }
                    // One at a time until four batches are blocked (sends that arrived together
                    // would share a batch), then eight more that can only wait in line.
                    for index in 1...4 {
                        group.addTask { try await send(index) }
                        try await waitUntil(seconds: 30) { try await waitingOnLocks() >= index }
                    }
                    for index in 5...12 { group.addTask { try await send(index) } }
                    try await Task.sleep(for: .milliseconds(200))
                    issued.set()
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                // Anything written late would be there by now.
                try await Task.sleep(for: .milliseconds(500))
                for answer in answers {
                    let stored: Int = try await world.scalar(
                        "SELECT count(*)::int FROM otp.verifications WHERE recipient = \(answer.recipient)")
                    switch answer.status {
                    case 202:
                        #expect(stored == 1, "\(answer)")
                        let id: String = try await world.scalar(
                            "SELECT id FROM otp.verifications WHERE recipient = \(answer.recipient)")
                        #expect(id == answer.verificationID)
                    case 503:
                        #expect(stored == 0, "answered 503 but written: \(answer)")
                    default:
                        Issue.record("neither 202 nor 503: \(answer)")
                    }
                }
                // Both kinds happened: sends answered 202 after their deadline (their batch was being
                // written), and sends still in line answered 503.
                #expect(answers.contains { $0.status == 202 && $0.seconds > 3 }, "\(answers)")
                #expect(answers.contains { $0.status == 503 }, "\(answers)")
            }
        }
    }

    /// A batch still writing past its deadline (a lock held elsewhere, for longer than a client
    /// waits) is given `writingPatience` more, then stopped: its COMMIT never goes out, so the send
    /// is answered `503` at once and is never written, not even once the lock goes. Its database
    /// call is left to the runner of abandonable calls, as `otp serve` composes it.
    @Test func aBatchStillWritingPastItsDeadlineIsStoppedAnswered503AndNeverWritten() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await Self.withAPI(world, deadline: .seconds(2)) { client in
                _ = try await world.send(client, recipient: "+5511999761000")  // a connection and the key, warm
                let locked = StopFlag()
                let released = StopFlag()
                let answer = try await withThrowingTaskGroup(of: (status: Int, seconds: Double)?.self) { group in
                    group.addTask {
                        try await world.client.withTransaction(logger: quietLogger) { connection in
                            try await connection.query(
                                "LOCK TABLE otp.verifications IN SHARE MODE", logger: quietLogger)
                            locked.set()
                            // Past the 2 s deadline and the 3 s of patience after it.
                            try await Task.sleep(for: .milliseconds(9000))
                        }
                        released.set()
                        return nil
                    }
                    try await waitUntil(seconds: 10) { locked.isSet }
                    group.addTask {
                        let start = ContinuousClock.now
                        let response = try await client.post(
                            "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+5511999761001"]),
                            headers: world.basicAuth)
                        let elapsed = ContinuousClock.now - start
                        return (
                            response.status.code,
                            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                        )
                    }
                    return try await group.reduce(into: [(status: Int, seconds: Double)]()) {
                        if let answer = $1 { $0.append(answer) }
                    }.first
                }
                #expect(released.isSet)
                #expect(answer?.status == 503, "\(String(describing: answer))")
                // The deadline, the patience, the read-back's 500 ms, and room for a loaded machine;
                // the lock alone would have held it 9 s.
                #expect((answer?.seconds ?? 99) < 7.5, "answered after \(String(describing: answer?.seconds)) s")
                #expect(world.logs.all.contains { $0.contains("still writing past its deadline was stopped") })
                // The lock is gone and the stopped insert's backend has had its turn: nothing of it.
                try await Task.sleep(for: .milliseconds(500))
                let stored: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE recipient = '+5511999761001'")
                #expect(stored == 0, "answered 503, so it must not be written")
            }
        }
    }

    /// A COMMIT held without an answer (a primary cut off from its synchronous standby holds every
    /// COMMIT until it is demoted) is given up a second past the deadline, in `otp serve` as
    /// composed for production: `503` with the outcome unknown, not an answer that waits as long as
    /// the partition. The client's retry with the same `Idempotency-Key` then learns the truth: here
    /// the COMMIT landed, and the retry replays its `202`.
    @Test func aCommitThatDoesNotAnswerIsGivenUpASecondPastTheDeadline() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            // Every send's COMMIT takes 10 s: a deferred constraint trigger sleeps at commit time.
            for statement in [
                """
                CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(10); RETURN NULL; END $$
                """,
                """
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON otp.deliveries
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.slow_commit()
                """,
            ] {
                _ = try await world.client.query(PostgresQuery(unsafeSQL: statement), logger: quietLogger).collect()
            }
            try await withServeProcesses(world, count: 1) { ports, http in
                @Sendable func send() async throws -> (status: UInt, id: String?, seconds: Double) {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(ports[0])/otp/send")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: world.basicAuth[.authorization] ?? "")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "Idempotency-Key", value: "slow-commit")
                    request.body = .bytes(
                        ByteBuffer(string: jsonBody(["appid": world.app.id, "recipient": "+5511999761000"])))
                    let start = ContinuousClock.now
                    let response = try await http.execute(request, timeout: .seconds(30))
                    let body = try await response.body.collect(upTo: 1 << 16)
                    let elapsed = ContinuousClock.now - start
                    let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                    return (
                        response.status.code, json?["verification_id"] as? String,
                        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    )
                }
                let first = try await send()
                #expect(first.status == 503)
                // The 5 s deadline, the second of patience, and room for a loaded machine.
                #expect(first.seconds < 6.8, "answered after \(first.seconds) s")
                // The COMMIT lands once the trigger is done: the retry replays it.
                try await waitUntil(seconds: 30) {
                    let stored: Int = try await world.scalar(
                        "SELECT count(*)::int FROM otp.verifications WHERE recipient = '+5511999761000'")
                    return stored == 1
                }
                let retry = try await send()
                let id: String = try await world.scalar(
                    "SELECT id FROM otp.verifications WHERE recipient = '+5511999761000'")
                #expect(retry.status == 202)
                #expect(retry.id == id)
            }
        }
    }
}
