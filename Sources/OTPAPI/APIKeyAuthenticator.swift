import Foundation
import Hummingbird
import HummingbirdAuth
import JWTKit
import OTPCore
import OTPHTTP

/// Authenticates `/otp/*` requests by any of the contract's three methods: the `X-API-Key` and
/// `X-API-Secret` headers; `Authorization: Basic`; `Authorization: Bearer` with either
/// base64(key_id:secret) or an HS256 JWT whose `kid` is the key id.
///
/// Every failure is the same 401, and the work done is about the same whichever part was wrong: an
/// unknown key is checked against a dummy digest, so timing does not tell which keys exist.
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = OTPRequestContext

    let directory: any AccessDirectory
    let secrets: APIKeySecrets

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        switch Credentials(request.headers) {
        case .none:
            return nil
        case .secret(let keyID, let secret):
            return try await checkSecret(keyID: keyID, secret: secret)
        case .jwt(let token):
            return try await checkJWT(token)
        case .malformed:
            throw APIError.unauthorized
        }
    }

    private func checkSecret(keyID: String, secret: String) async throws -> Principal {
        let key = try await activeKey(keyID)
        let matches = APIKeySecrets.secret(secret, matches: key?.secretDigest ?? Self.dummyDigest)
        guard let key, matches else { throw APIError.unauthorized }
        return Principal(key: key, jwtAppID: nil)
    }

    private func checkJWT(_ token: String) async throws -> Principal {
        guard let keyID = JWTHeaderPeek.keyID(of: token), let key = try await activeKey(keyID),
            let signingSecret = secrets.signingSecret(of: key)
        else {
            // The same work for an unknown key, so timing does not tell which keys exist.
            _ = secrets.signingSecret(of: Self.dummyKey)
            throw APIError.unauthorized
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: signingSecret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID))
        guard let claims = try? await keys.verify(token, as: OTPTokenClaims.self) else {
            throw APIError.unauthorized
        }
        return Principal(key: key, jwtAppID: claims.appid)
    }

    private func activeKey(_ keyID: String) async throws -> StoredAPIKey? {
        guard keyID.utf8.count <= 64, let key = try await directory.apiKey(id: keyID), !key.revoked else { return nil }
        return key
    }

    private static let dummyDigest = APIKeySecrets.digest(of: "no such key")
    private static let dummyKey = StoredAPIKey(
        keyID: "ak_none", accountID: 0, secretDigest: dummyDigest, sealedSecret: Data(count: 60), appIDs: nil,
        revoked: true)
}

/// What an `Authorization` or `X-API-*` header set carries.
enum Credentials: Equatable {
    case none
    case malformed
    case secret(keyID: String, secret: String)
    case jwt(String)

    init(_ headers: HTTPFields) {
        if let keyID = headers[.apiKey] {
            guard let secret = headers[.apiSecret] else {
                self = .malformed
                return
            }
            self = .secret(keyID: keyID, secret: secret)
            return
        }
        guard let authorization = headers[.authorization] else {
            self = .none
            return
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else {
            self = .malformed
            return
        }
        let scheme = parts[0].lowercased()
        let value = String(parts[1]).trimmingCharacters(in: .whitespaces)
        if scheme == "bearer" && value.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            self = .jwt(value)
        } else if scheme == "basic" || scheme == "bearer" {
            self = Self.keyAndSecret(base64: value)
        } else {
            self = .malformed
        }
    }

    private static func keyAndSecret(base64 text: String) -> Credentials {
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return .malformed }
        return .secret(keyID: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
    }
}

/// The claims an API JWT must carry: `iat` and `exp` (at most an hour apart), optionally `appid`.
struct OTPTokenClaims: JWTPayload {
    static let maximumLifetime: TimeInterval = 3600
    /// Allowed drift between the client's clock and ours.
    static let leeway: TimeInterval = 60

    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var appid: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        let now = Date()
        try exp.verifyNotExpired(currentDate: now)
        guard iat.value <= now.addingTimeInterval(Self.leeway) else {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
        guard exp.value.timeIntervalSince(iat.value) <= Self.maximumLifetime else {
            throw JWTError.claimVerificationFailure(failedClaim: exp, reason: "lifetime over one hour")
        }
    }
}

/// Reads `kid` from a JWT header before its signature can be checked (the key depends on it).
enum JWTHeaderPeek {
    static func keyID(of token: String) -> String? {
        guard let headerPart = token.split(separator: ".").first, headerPart.utf8.count <= 1024,
            let data = Data(base64URLEncoded: String(headerPart)),
            let header = try? JSONDecoder().decode(Header.self, from: data), header.alg == "HS256"
        else { return nil }
        return header.kid
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }
}
