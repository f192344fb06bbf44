import Foundation
import Hummingbird
import HummingbirdTesting
import OTPAPI
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

    @Test func aSendPastItsDeadlineIsAnswered202AndStoredOr503AndAbsent() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            var services = world.services
            // Long enough for a batch to get its connection on a loaded machine, short next to the
            // time the lock is held.
            services.requestDeadline = .seconds(3)
            let dependencies = services.apiDependencies(receipts: world.receiptSettings)
            let application = Application(
                router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                services: dependencies.backgroundServices)
            try await application.test(.router) { client in
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
}
