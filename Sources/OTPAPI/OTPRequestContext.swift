import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import OTPCore

/// The API key a request authenticated with, and the app a JWT limited it to.
public struct Principal: Sendable {
    public var key: StoredAPIKey
    public var jwtAppID: String?
}

public struct OTPRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Principal?
    public let remoteAddress: SocketAddress?
    /// Set when the peer is a trusted proxy: the client it forwarded for.
    var forwardedFor: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address, for limits and the audit trail.
    var clientIP: String? { forwardedFor ?? remoteAddress?.ipAddress }

    func actor() -> Actor {
        Actor(keyID: identity?.key.keyID ?? "", ip: clientIP)
    }
}
