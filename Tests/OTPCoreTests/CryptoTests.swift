import Crypto
import Foundation
import OTPCore
import Testing

@Suite struct CryptoTests {
    let keys = ServerKeys(secret: SymmetricKey(size: .bits256))

    @Test func digestsMatchOnlyTheirCodeAndVerification() {
        let digester = CodeDigester(keys: keys)
        let digest = digester.digest(code: "123456", verificationID: "otp_a")
        #expect(digester.matches(code: "123456", verificationID: "otp_a", digest: digest))
        #expect(!digester.matches(code: "123457", verificationID: "otp_a", digest: digest))
        #expect(!digester.matches(code: "123456", verificationID: "otp_b", digest: digest))
        #expect(
            !CodeDigester(keys: ServerKeys(secret: SymmetricKey(size: .bits256)))
                .matches(code: "123456", verificationID: "otp_a", digest: digest))
    }

    @Test func sealedCodesOpenOnlyForTheirVerification() throws {
        let sealer = CodeSealer(keys: keys)
        let sealed = try sealer.seal(code: "987654", verificationID: "otp_a")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("987654"))
        #expect(try sealer.open(sealed, verificationID: "otp_a") == "987654")
        #expect(throws: (any Error).self) { try sealer.open(sealed, verificationID: "otp_b") }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try sealer.open(tampered, verificationID: "otp_a") }
    }

    @Test func apiSecretsAreRandomCheckedByDigestAndOpenedThroughARotation() throws {
        let secret = APIKeySecrets.newSecret()
        #expect(secret.hasPrefix("sk_") && secret.count == 46)
        #expect(secret != APIKeySecrets.newSecret())
        let digest = APIKeySecrets.digest(of: secret)
        #expect(APIKeySecrets.secret(secret, matches: digest))
        #expect(!APIKeySecrets.secret(secret + "x", matches: digest))

        let old = ServerKeys.generateSecret()
        let new = ServerKeys.generateSecret()
        let before = try ServerKeys(ring: "k1:\(old)")
        let sealed = try APIKeySecrets(keys: before).seal(secret, keyID: "ak_1")
        #expect(!String(decoding: sealed, as: UTF8.self).contains(secret))
        func key(_ sealed: Data?, id: String = "ak_1") -> StoredAPIKey {
            StoredAPIKey(
                keyID: id, accountID: 1, secretDigest: digest, sealedSecret: sealed, appIDs: nil, revoked: false)
        }
        let during = try ServerKeys(ring: "k2:\(new), k1:\(old)")
        #expect(APIKeySecrets(keys: during).signingSecret(of: key(sealed)) == secret)
        #expect(APIKeySecrets(keys: during).signingSecret(of: key(sealed, id: "ak_2")) == nil, "bound to its key id")
        let resealed = try APIKeySecrets(keys: during).seal(secret, keyID: "ak_1")
        let after = try ServerKeys(ring: "k2:\(new)")
        #expect(APIKeySecrets(keys: after).signingSecret(of: key(resealed)) == secret)
        #expect(
            APIKeySecrets(keys: after).signingSecret(of: key(sealed)) == nil, "the dropped key's seal is unreadable")
    }

    @Test func codesMadeBeforeARotationStillMatchAndOpen() throws {
        let old = ServerKeys.generateSecret()
        let before = try ServerKeys(ring: "k1:\(old)")
        let during = try ServerKeys(ring: "k2:\(ServerKeys.generateSecret()), k1:\(old)")
        let digest = CodeDigester(keys: before).digest(code: "123456", verificationID: "otp_a")
        #expect(CodeDigester(keys: during).matches(code: "123456", verificationID: "otp_a", digest: digest))
        #expect(!CodeDigester(keys: during).matches(code: "123457", verificationID: "otp_a", digest: digest))
        let sealed = try CodeSealer(keys: before).seal(code: "654321", verificationID: "otp_a")
        #expect(try CodeSealer(keys: during).open(sealed, verificationID: "otp_a") == "654321")
        #expect(
            CodeDigester(keys: during).digest(code: "1", verificationID: "v")
                != CodeDigester(keys: before).digest(code: "1", verificationID: "v"), "the first key makes new digests")
    }

    @Test func keyRingsAreParsedStrictly() {
        let key = ServerKeys.generateSecret()
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(ring: "") }
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(ring: key) }
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(ring: "a:\(key),a:\(key)") }
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(ring: "a b:\(key)") }
        #expect(
            (try? ServerKeys(ring: "new:\(key), old:\(ServerKeys.generateSecret())"))?.ring.map(\.id) == ["new", "old"])
    }

    @Test func serverKeyMustBe32Base64Bytes() {
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(base64: "not base64!") }
        #expect(throws: ServerKeys.KeyError.self) { try ServerKeys(base64: Data(count: 16).base64EncodedString()) }
        #expect(throws: Never.self) { try ServerKeys(base64: ServerKeys.generateSecret()) }
    }

    @Test func identifiersHaveTheirShape() {
        let id = Identifiers.verificationID()
        #expect(Identifiers.isVerificationID(id))
        #expect(!Identifiers.isVerificationID("otp_" + String(repeating: "A", count: 26)))
        #expect(Set((0..<1000).map { _ in Identifiers.verificationID() }).count == 1000)
    }
}
