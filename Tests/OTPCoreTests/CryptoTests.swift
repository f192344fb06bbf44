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

    @Test func apiSecretsAreDerivedAndCheckedByDigest() {
        let secrets = APIKeySecrets(keys: keys)
        let secret = secrets.secret(forKeyID: "ak_1")
        #expect(secret.hasPrefix("sk_") && secret.count == 46)
        #expect(secret == secrets.secret(forKeyID: "ak_1"))
        #expect(secret != secrets.secret(forKeyID: "ak_2"))
        let digest = APIKeySecrets.digest(of: secret)
        #expect(APIKeySecrets.secret(secret, matches: digest))
        #expect(!APIKeySecrets.secret(secret + "x", matches: digest))
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
