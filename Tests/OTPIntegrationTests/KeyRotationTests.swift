import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

/// The key rotation procedure of the docs, walked: put a new server key first, reseal, drop the old one.
/// No client's secret changes, and a code sent before the rotation still verifies during it.
@Suite struct KeyRotationTests {
    @Test func rotatingTheServerKeyChangesNoClientSecret() async throws {
        // Its own database: reseal goes over every key there is.
        try await TestApp.with(ownDatabase: true) { world in
            let auth = AuthTests()
            // A key made before secrets were sealed: its secret was derived from its id.
            let legacyID = Identifiers.keyID()
            let legacySecret = APIKeySecrets.derivedSecret(keyID: legacyID, using: world.keys.current)
            try await world.client.query(
                """
                INSERT INTO otp.api_keys (key_id, account_id, secret_digest, app_ids)
                VALUES (\(legacyID), \(world.app.accountID), \(APIKeySecrets.digest(of: legacySecret)), \([world.app.id]))
                """, logger: quietLogger)

            // Basic, a JWT signed with the key's secret, and one signed with the legacy key's.
            @Sendable func everyCredentialWorks(_ client: any TestClientProtocol) async throws {
                try await auth.expectAccepted(world.basicAuth, world, client)
                try await auth.expectAccepted([.authorization: "Bearer \(try await auth.jwt(world))"], world, client)
                let legacyJWT = try await auth.jwt(world, kid: legacyID, secret: legacySecret)
                try await auth.expectAccepted([.authorization: "Bearer \(legacyJWT)"], world, client)
            }

            let inFlight = try await world.test { client in try await world.send(client, code: "777111") }
            // A test number, its code sealed under the old key.
            let testNumber = "+14155550198"
            _ = try await world.directory.updatePolicy(appID: world.app.id) { policy in
                try TestNumbers.apply(["\(testNumber)=864200"], to: &policy, sealer: CodeSealer(keys: world.keys))
            }

            let next = ServerKeys.generateSecret()
            var during = world
            during.keys = try ServerKeys(ring: "next:\(next), default:\(world.secretKey)")
            try await during.test { client in
                try await everyCredentialWorks(client)
                #expect(try await world.verify(client, inFlight, code: "777111").status == .ok)
            }
            let result = try await world.directory.resealKeys(secrets: APIKeySecrets(keys: during.keys))
            #expect(result.unreadable.isEmpty)
            #expect(result.resealed == 2)
            let numbers = try await world.directory.resealTestNumbers(sealer: CodeSealer(keys: during.keys))
            #expect(numbers.resealed == 1 && numbers.unreadable.isEmpty)

            var after = world
            after.keys = try ServerKeys(ring: "next:\(next)")
            try await after.test { client in
                try await everyCredentialWorks(client)
                // A code sent after the rotation is made and checked with the new key.
                let fresh = try await world.send(client, code: "777222")
                #expect(try await world.verify(client, fresh, code: "777222").status == .ok)
                // The test number's code was resealed: it still opens with the old key gone.
                let test = try await world.send(client, recipient: testNumber)
                #expect(try await world.verify(client, test, code: "864200").status == .ok)
            }
            // Only revoking retires a key.
            try await world.directory.revokeKey(id: world.keyID)
            try await after.test { client in try await auth.expectUnauthorized(world.basicAuth, world, client) }
        }
    }
}
