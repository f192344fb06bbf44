import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import OTPWorker
import PostgresNIO
import Testing

/// `otp.request_verification`: a send requested from the app's own transaction, on PostgreSQL,
/// prepared and sent by the real worker.
@Suite struct RequestedSendTests {
    struct Rollback: Error {}

    /// The SQLSTATE of a refused call, nil when it went through.
    static func sqlState(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "no sqlstate"
        } catch let error as PostgresTransactionError {
            return (error.closureError as? PSQLError)?.serverInfo?[.sqlState] ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    static func request(
        _ world: TestApp, _ recipient: String, channel: String? = nil, on connection: PostgresConnection
    )
        async throws -> String
    {
        let rows = try await connection.query(
            "SELECT otp.request_verification(\(world.app.id), \(recipient), channel => \(channel)::text)",
            logger: quietLogger)
        for try await id in rows.decode(String.self) { return id }
        throw TestFailure("no id")
    }

    /// Lets the tests' owner role request for the test app's account, as `otp producers grant` does
    /// for an operator's role (without a grant every call is refused with OT403).
    static func grantOwner(_ world: TestApp) async throws {
        let owner: String = try await world.scalar("SELECT session_user::text")
        let account: String = try await world.scalar(
            "SELECT a.name FROM otp.accounts a JOIN otp.apps p ON p.account_id = a.id WHERE p.id = \(world.app.id)")
        try await ProducerGrants(client: world.client, logger: quietLogger).grant(role: owner, account: account)
    }

    /// The app's own table, in the same database.
    static func makeSignups(_ world: TestApp) async throws {
        try await world.client.query(
            "CREATE TABLE IF NOT EXISTS public.signups (phone text PRIMARY KEY, verification_id text)",
            logger: quietLogger)
    }

    @Test func aRolledBackRequestSendsNothingAndACommittedOneArrivesAndVerifies() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await Self.grantOwner(world)
            try await Self.makeSignups(world)
            let (doomed, kept) = ("+5511999771001", "+5511999771002")
            _ = try? await world.client.withTransaction(logger: quietLogger) { connection in
                try await connection.query("INSERT INTO public.signups (phone) VALUES (\(doomed))", logger: quietLogger)
                _ = try await Self.request(world, doomed, on: connection)
                throw Rollback()
            }
            let id = try await world.client.withTransaction(logger: quietLogger) { connection in
                let id = try await Self.request(world, kept, on: connection)
                try await connection.query(
                    "INSERT INTO public.signups VALUES (\(kept), \(id))", logger: quietLogger)
                return id
            }
            #expect(Identifiers.isVerificationID(id))
            let provider = CapturingProvider()
            try await world.test { client in
                try await runWorker(world, provider: provider, configuration: PipelineTests.fast) {
                    try await waitUntil(seconds: 30) { provider.messages.count == 1 }
                    // Whatever else the worker finds, there is nothing of the rolled-back one.
                    try await Task.sleep(for: .milliseconds(300))
                }
                #expect(provider.messages.map(\.recipient) == [kept])
                let code = try #require(provider.messages.first?.code)
                #expect(provider.messages.first?.body.contains(code) == true)
                let doomedRows: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE recipient = \(doomed)")
                #expect(doomedRows == 0)
                let verified = try await world.verify(client, id, code: code)
                #expect(verified.status == .ok && verified.json["verified"] as? Bool == true)
                let country: String = try await world.scalar("SELECT country FROM otp.verifications WHERE id = \(id)")
                #expect(country == "BR")
                let actors: [String] = try await world.scalar(
                    "SELECT array_agg(DISTINCT actor) FROM otp.events WHERE verification_id = \(id) AND event = 'send_requested'"
                )
                #expect(actors.count == 1 && actors[0].hasPrefix("sql:"))
            }
        }
    }

    @Test func aNumberTheRulesRefuseEndsCanceledWithTheReason() async throws {
        try await TestApp.with(ownDatabase: true, configure: { $0.countries[.sms] = .allow(["PT"]) }) { world in
            try await Self.grantOwner(world)
            let provider = CapturingProvider()
            var requested: [String] = []
            for number in ["+5511999771003", "+99912345678", "+351912345678"] {
                requested.append(
                    try await world.client.withConnection { try await Self.request(world, number, on: $0) })
            }
            let ids = requested
            try await world.test { client in
                try await runWorker(world, provider: provider, configuration: PipelineTests.fast) {
                    try await waitUntil(seconds: 30) {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state IN ('sent', 'canceled')", as: Int.self
                        )
                            == 3
                    }
                }
                let (brazil, nowhere, portugal) = (ids[0], ids[1], ids[2])
                #expect(provider.messages.map(\.recipient) == ["+351912345678"])
                for (id, reason) in [(brazil, "COUNTRY_NOT_ALLOWED: BR"), (nowhere, "INVALID_RECIPIENT")] {
                    #expect(try await world.status(client, id).json["status"] as? String == "canceled")
                    let reasons: [String] = try await world.scalar(
                        "SELECT array_agg(details->>'reason') FROM otp.events WHERE verification_id = \(id) AND event = 'refused'"
                    )
                    #expect(reasons == [reason])
                }
                #expect(try await world.status(client, portugal).json["delivery_status"] as? String == "sent")
            }
        }
    }

    @Test func aResendBeforeTheWorkerPreparedItSendsOneCodeOnly() async throws {
        try await TestApp.with(ownDatabase: true, configure: { $0.resendCooldownSeconds = 0 }) { world in
            try await Self.grantOwner(world)
            let id = try await world.client.withConnection { try await Self.request(world, "+5511999771008", on: $0) }
            let provider = CapturingProvider()
            try await world.test { client in
                #expect(try await world.resend(client, id).status == .accepted)
                try await runWorker(world, provider: provider, configuration: PipelineTests.fast) {
                    try await waitUntil(seconds: 30) {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state IN ('queued', 'sending')",
                            as: Int.self)
                            == 0
                    }
                }
                // The resend's code went out; the request's own delivery found the code made and stood down.
                #expect(provider.messages.count == 1)
                let code = try #require(provider.messages.first?.code)
                #expect(try await world.verify(client, id, code: code).status == .ok)
                let states: [String] = try await world.scalar(
                    "SELECT array_agg(state ORDER BY id) FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(states == ["canceled", "sent"])
                let country: String = try await world.scalar("SELECT country FROM otp.verifications WHERE id = \(id)")
                #expect(country == "BR", "the resend read the number")
            }
        }
    }

    /// The limits are the API's own, charged by the worker when it prepares each send: all 20
    /// requests are recorded, exactly the limit's 5 go out, the others end `canceled` with the rule.
    @Test func twentyConcurrentRequestsForOneRecipientAdmitExactlyTheLimit() async throws {
        try await awayFromWindowEnd()
        try await TestApp.with(ownDatabase: true, configure: RateLimitTests.only([.recipient10m: 5])) { world in
            try await Self.grantOwner(world)
            let states = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        await Self.sqlState {
                            _ = try await world.client.withTransaction(logger: quietLogger) { connection in
                                try await Self.request(world, "+5511999771004", on: connection)
                            }
                        }
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(states.allSatisfy { $0 == nil }, "\(states)")
            let provider = CapturingProvider()
            try await world.test { client in
                try await runWorker(world, provider: provider, configuration: PipelineTests.fast) {
                    try await waitUntil(seconds: 30) {
                        try await world.scalar(
                            "SELECT count(*)::int FROM otp.deliveries WHERE state IN ('sent', 'canceled')", as: Int.self
                        ) == 20
                    }
                }
                #expect(provider.messages.count == 5)
                let reasons: [String] = try await world.scalar(
                    """
                    SELECT coalesce(array_agg(details->>'reason'), '{}') FROM otp.events
                    WHERE app_id = \(world.app.id) AND event = 'refused'
                    """)
                #expect(reasons == Array(repeating: "RATE_LIMITED: recipient_10m", count: 15))
                // The API shares the counter: the recipient's budget is spent for it too.
                let response = try await client.post(
                    "/otp/send", jsonBody(["appid": world.app.id, "recipient": "+5511999771004"]),
                    headers: world.basicAuth)
                #expect(response.status == .tooManyRequests)
            }
        }
    }

    /// SQL's ids have the core's form, and every character of the alphabet is equally likely: a
    /// byte taken modulo 36 would make `0` to `3` one in seven more frequent (chi-square near 200).
    @Test func idsMadeInSQLAreTheCoresFormAndUniform() async throws {
        try await TestApp.with { world in
            let ids: [String] = try await world.scalar(
                "SELECT array_agg(otp.new_verification_id()) FROM generate_series(1, 4000)")
            #expect(ids.allSatisfy(Identifiers.isVerificationID))
            #expect(Set(ids).count == ids.count)
            var counts: [Character: Int] = [:]
            for id in ids { for character in id.dropFirst(4) { counts[character, default: 0] += 1 } }
            #expect(counts.count == 36)
            let expected = Double(ids.count * 26) / 36
            let chiSquare = counts.values.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
            // 35 degrees of freedom: above 70 one time in 2,500 by chance.
            #expect(chiSquare < 70, "chi-square \(chiSquare)")
        }
    }

    @Test func refusalsAreOT400AndTheProducerRoleMayOnlyCallTheFunction() async throws {
        try await TestApp.with(configure: { $0.channels = [.sms] }) { world in
            try await Self.grantOwner(world)
            let refused: [(String, String?)] = [("app_unknown00000000000", nil), (world.app.id, "whatsapp")]
            for (app, channel) in refused {
                let state = await Self.sqlState {
                    _ = try await world.client.query(
                        "SELECT otp.request_verification(\(app), '+5511999771005', channel => \(channel)::text)",
                        logger: quietLogger
                    ).collect()
                }
                #expect(state == "OT400", "\(app) \(channel ?? "")")
            }
            for bad in ["5511999771005", "+55 11 99977-1005", "+0123456789", ""] {
                let state = await Self.sqlState {
                    _ = try await world.client.withConnection { try await Self.request(world, bad, on: $0) }
                }
                #expect(state == "OT400", "\(bad)")
            }
            let badMetadata = await Self.sqlState {
                _ = try await world.client.query(
                    "SELECT otp.request_verification(\(world.app.id), '+5511999771005', metadata => '[1]'::jsonb)",
                    logger: quietLogger
                ).collect()
            }
            #expect(badMetadata == "OT400")

            // As otp_producer: the function, and nothing else.
            try await world.client.withTransaction(logger: quietLogger) { connection in
                try await connection.query("SET LOCAL ROLE otp_producer", logger: quietLogger)
                _ = try await Self.request(world, "+5511999771006", on: connection)
                let denied = await Self.sqlState {
                    try await connection.query("SAVEPOINT s", logger: quietLogger)
                    _ = try await connection.query("SELECT count(*) FROM otp.verifications", logger: quietLogger)
                        .collect()
                }
                #expect(denied == "42501")
                try await connection.query("ROLLBACK TO SAVEPOINT s", logger: quietLogger)
                for table in ["otp.deliveries", "otp.apps", "otp.rate_limit_counters"] {
                    try await connection.query("SAVEPOINT t", logger: quietLogger)
                    let state = await Self.sqlState {
                        _ = try await connection.query(
                            PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: quietLogger
                        ).collect()
                    }
                    #expect(state == "42501", "\(table)")
                    try await connection.query("ROLLBACK TO SAVEPOINT t", logger: quietLogger)
                }
            }
            let runtimeMayCall = await Self.sqlState {
                _ = try await world.runtimeClient.query(
                    "SELECT otp.request_verification(\(world.app.id), '+5511999771007')", logger: quietLogger
                ).collect()
            }
            #expect(runtimeMayCall == "42501", "the service's runtime role has no use for it")
        }
    }
}
