import Foundation
import Hummingbird
import HummingbirdTesting
import OTPAPI
import OTPTesting
import PostgresNIO
import Testing

/// `DATABASE_READ_URL`: the management routes read from it, everything that decides from the primary.
@Suite struct ReadReplicaTests {
    @Test func managementReadsGoToTheReplicaAndDecisionsToThePrimary() async throws {
        try await TestApp.with { world in
            // A second database stands in for the replica: what the routes answer shows which one they read.
            try await withTestDatabase(ownDatabase: true) { replica, _ in
                try await replica.query(
                    "INSERT INTO otp.events (event, app_id, details) VALUES ('expired', \(world.app.id), '{\"on\":\"replica\"}')",
                    logger: quietLogger)
                var services = world.services
                services.readClient = replica
                let dependencies = services.apiDependencies(receipts: world.receiptSettings)
                let application = Application(
                    router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    services: dependencies.backgroundServices)
                try await application.test(.router) { client in
                    let id = try await world.send(client, code: "135790")
                    // Sends, verifies and status are the primary's.
                    #expect(try await world.verify(client, id, code: "135790").json["verified"] as? Bool == true)
                    #expect(try await world.status(client, id).json["status"] as? String == "verified")
                    // The lists are the replica's: its one event, none of the primary's rows.
                    let logs = try await client.get("/otp/logs?appid=\(world.app.id)", headers: world.basicAuth)
                    let events = try #require(logs.json["items"] as? [[String: Any]])
                    #expect(events.map { $0["event"] as? String } == ["expired"])
                    let list = try await client.get("/otp/list?appid=\(world.app.id)", headers: world.basicAuth)
                    #expect((list.json["items"] as? [[String: Any]])?.isEmpty == true)
                    let primary: Int = try await world.scalar(
                        "SELECT count(*)::bigint FROM otp.events WHERE app_id = \(world.app.id)")
                    #expect(primary >= 3)
                }
            }
        }
    }
}
