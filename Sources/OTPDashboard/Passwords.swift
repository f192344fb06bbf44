import HummingbirdBcrypt
import NIOPosix

/// Passwords as bcrypt hashes (cost 12), hashed and checked off the event loops: one check takes
/// a quarter of a second of CPU by design.
package enum Passwords {
    package static let cost: UInt8 = 12

    package static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    package static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Checked against when the email is unknown, so that an unknown email takes as long to refuse
    /// as a wrong password: a cost-12 hash of a random password nobody kept (written out, so that
    /// making it costs no request a quarter of a second on an event loop).
    static let unknownUserHash = "$2b$12$zqMGsDLPRV.OErShqHUtNuGAxwz/mTnGNRQ4Q2mBRQl/Fv9Mcng.S"
}
