import Crypto
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat

/// SHA-256 of a request body: what an `Idempotency-Key` is bound to.
enum RequestDigest {
    static func of(_ buffer: ByteBuffer) -> Data {
        Data(SHA256.hash(data: Data(buffer: buffer)))
    }
}
