import Foundation
import HTTPTypes
import OpenAPIRuntime

/// An API key, presented in one of the three ways the service accepts (API.md, "Authentication").
public struct Credentials: Sendable {
    let headers: [(HTTPField.Name, String)]

    /// `X-API-Key` and `X-API-Secret`.
    public static func apiKey(keyID: String, secret: String) -> Credentials {
        Credentials(headers: [(.apiKey, keyID), (.apiSecret, secret)])
    }

    /// `Authorization: Basic base64(key_id:secret)`.
    public static func basic(keyID: String, secret: String) -> Credentials {
        Credentials(headers: [(.authorization, "Basic " + Data("\(keyID):\(secret)".utf8).base64EncodedString())])
    }

    /// `Authorization: Bearer TOKEN`: `base64(key_id:secret)`, or a JWT signed with the key's
    /// secret (HS256, header `kid`, claims `iat` and `exp`, optionally `appid`), made by the caller.
    public static func bearer(_ token: String) -> Credentials {
        Credentials(headers: [(.authorization, "Bearer " + token)])
    }
}

/// Adds the credentials to every request.
struct CredentialsMiddleware: ClientMiddleware {
    let credentials: Credentials

    init(_ credentials: Credentials) { self.credentials = credentials }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        for (name, value) in credentials.headers { request.headerFields[name] = value }
        return try await next(request, body, baseURL)
    }
}

extension HTTPField.Name {
    // Valid header names, so the initialiser cannot fail.
    fileprivate static let apiKey = HTTPField.Name("X-API-Key") ?? .authorization
    fileprivate static let apiSecret = HTTPField.Name("X-API-Secret") ?? .authorization
}
