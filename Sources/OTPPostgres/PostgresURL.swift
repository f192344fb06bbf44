import Foundation
import NIOSSL
import PostgresNIO

extension PostgresClient.Configuration {
    public enum URLError: Error, CustomStringConvertible {
        case invalid(String)

        public var description: String {
            switch self {
            case .invalid(let reason): "DATABASE_URL is not usable: \(reason)"
            }
        }
    }

    /// From `postgres://user:pass@host:port/db?sslmode=...`. `sslmode` is honoured: `disable`;
    /// `prefer` (the default, as libpq); `require` (encrypted, server not verified, as libpq);
    /// `verify-ca` and `verify-full` (verified against the system's roots).
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw URLError.invalid("expected postgres://user:pass@host:port/db") }
        guard let user = url.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw URLError.invalid("no user")
        }
        let host = url.host ?? "127.0.0.1"
        let database = String(url.path.dropFirst())
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        var verified = TLSConfiguration.makeClientConfiguration()
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let tls: TLS
        switch mode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer(unverified)
        case "require": tls = .require(unverified)
        case "verify-ca":
            verified.certificateVerification = .noHostnameVerification
            tls = .require(verified)
        case "verify-full": tls = .require(verified)
        default: throw URLError.invalid("unknown sslmode \(mode)")
        }
        self.init(
            host: host, port: url.port ?? 5432, username: user,
            password: url.percentEncodedPassword?.removingPercentEncoding,
            database: database.isEmpty ? user : database, tls: tls)
    }
}
