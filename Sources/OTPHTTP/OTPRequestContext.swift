import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import OTPCore

/// The API key a request authenticated with, and the app a JWT limited it to.
package struct Principal: Sendable {
    package var key: StoredAPIKey
    package var jwtAppID: String?

    package init(key: StoredAPIKey, jwtAppID: String?) {
        self.key = key
        self.jwtAppID = jwtAppID
    }
}

package struct OTPRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package var identity: Principal?
    package let remoteAddress: SocketAddress?
    /// Set when the peer is a trusted proxy: the client it forwarded for.
    var forwardedFor: String?
    /// Set when the peer is a trusted proxy: the scheme the client used (`X-Forwarded-Proto`).
    package internal(set) var forwardedProto: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address, for limits and the audit trail.
    package var clientIP: String? { forwardedFor ?? remoteAddress?.ipAddress }

    /// The socket's peer address (never a header's word).
    package var peerIP: String? { remoteAddress?.ipAddress }

    /// Who the audit trail names: the key and the client's address.
    package func actor() -> Caller {
        Caller(keyID: identity?.key.keyID ?? "", ip: clientIP)
    }
}
