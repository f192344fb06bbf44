import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import OTPTesting
import Testing

/// The three ways to authenticate, and every way to fail.
@Suite struct AuthTests {
    static func statusRequest(_ world: TestApp) -> String {
        "/otp/status?appid=\(world.app.id)&verification_id=otp_\(String(repeating: "0", count: 26))"
    }

    /// With good credentials a status request for an unknown id is a 404 NOT_FOUND (not a 401).
    func expectAccepted(_ headers: HTTPFields, _ world: TestApp, _ client: some TestClientProtocol) async throws {
        let response = try await client.get(Self.statusRequest(world), headers: headers)
        #expect(response.status == .notFound)
        #expect(response.errorCode == "NOT_FOUND")
    }

    func expectUnauthorized(
        _ headers: HTTPFields, _ world: TestApp, _ client: some TestClientProtocol,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let response = try await client.get(Self.statusRequest(world), headers: headers)
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] != nil, sourceLocation: sourceLocation)
        #expect(
            String(buffer: response.body)
                == #"{"error":{"code":"UNAUTHORIZED","message":"missing or invalid credentials"}}"#,
            sourceLocation: sourceLocation)
    }

    func jwt(
        _ world: TestApp, kid: String? = nil, secret: String? = nil, iat: Date = Date(), lifetime: TimeInterval = 600,
        appid: String? = nil
    ) async throws -> String {
        struct Claims: JWTPayload {
            var iat: IssuedAtClaim
            var exp: ExpirationClaim
            var appid: String?
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret ?? world.secret), digestAlgorithm: .sha256)
        var header = JWTHeader()
        header.kid = kid ?? world.keyID
        return try await keys.sign(
            Claims(iat: .init(value: iat), exp: .init(value: iat.addingTimeInterval(lifetime)), appid: appid),
            header: header)
    }

    @Test func everyMethodAuthenticates() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                try await expectAccepted(
                    [.init("X-API-Key")!: world.keyID, .init("X-API-Secret")!: world.secret], world, client)
                try await expectAccepted(world.basicAuth, world, client)
                let base64 = Data("\(world.keyID):\(world.secret)".utf8).base64EncodedString()
                try await expectAccepted([.authorization: "Bearer \(base64)"], world, client)
                try await expectAccepted([.authorization: "Bearer \(try await jwt(world))"], world, client)
                try await expectAccepted(
                    [.authorization: "Bearer \(try await jwt(world, appid: world.app.id))"], world, client)
            }
        }
    }

    @Test func wrongCredentialsAllLookTheSame() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let wrongSecret = Data("\(world.keyID):sk_wrong".utf8).base64EncodedString()
                let unknownKey = Data("ak_unknown:\(world.secret)".utf8).base64EncodedString()
                let cases: [HTTPFields] = [
                    [:],
                    [.authorization: "Basic \(wrongSecret)"],
                    [.authorization: "Basic \(unknownKey)"],
                    [.authorization: "Basic !!!not base64"],
                    [.authorization: "Bearer \(wrongSecret)"],
                    [.authorization: "Digest abc"],
                    [.init("X-API-Key")!: world.keyID],
                    [.init("X-API-Key")!: world.keyID, .init("X-API-Secret")!: "sk_wrong"],
                    [.authorization: "Bearer a.b.c"],
                ]
                for headers in cases { try await expectUnauthorized(headers, world, client) }
            }
        }
    }

    @Test func revokedKeysStopWorking() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                try await expectAccepted(world.basicAuth, world, client)
                try await world.directory.revokeKey(id: world.keyID)
                try await expectUnauthorized(world.basicAuth, world, client)
                try await expectUnauthorized([.authorization: "Bearer \(try await jwt(world))"], world, client)
            }
        }
    }

    @Test func badTokensAreRefused() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let expired = try await jwt(world, iat: Date().addingTimeInterval(-1200), lifetime: 600)
                let unknownKid = try await jwt(world, kid: "ak_nobody")
                let tooLong = try await jwt(world, lifetime: 3601)
                let wrongSecret = try await jwt(world, secret: "sk_" + String(repeating: "x", count: 43))
                for token in [expired, unknownKid, tooLong, wrongSecret] {
                    try await expectUnauthorized([.authorization: "Bearer \(token)"], world, client)
                }
            }
        }
    }

    @Test func aTokenForAnotherAppIsForbidden() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let token = try await jwt(world, appid: "app_someotherapp")
                let response = try await client.get(
                    Self.statusRequest(world), headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == .forbidden)
                #expect(response.errorCode == "APP_FORBIDDEN")
            }
        }
    }
}
