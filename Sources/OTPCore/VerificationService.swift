import Foundation
import Logging

/// The use cases behind the routes: make and protect codes, and let the store keep them.
///
/// The code exists in plaintext only here, between its generation and its digest and seal; it is
/// never returned, logged or stored.
public struct VerificationService: Sendable {
    let store: any VerificationStore
    let codes: any CodeGenerator
    let digester: CodeDigester
    let sealer: CodeSealer

    public init(store: any VerificationStore, codes: any CodeGenerator, keys: ServerKeys) {
        self.store = store
        self.codes = codes
        self.digester = CodeDigester(keys: keys)
        self.sealer = CodeSealer(keys: keys)
    }

    public func send(app: App, _ request: ValidatedSend, idempotency: IdempotencyClaim?, actor: Actor) async throws
        -> SendOutcome
    {
        let id = Identifiers.verificationID()
        let code = codes.makeCode(length: request.codeLength)
        let sealed = try sealer.seal(code: code, verificationID: id)
        let verification = NewVerification(
            id: id, appID: app.id, recipient: request.recipient.e164, channel: request.channel,
            sender: request.sender, locale: request.locale,
            codeDigest: digester.digest(code: code, verificationID: id), sealedCode: sealed,
            keepsSealedCode: app.policy.resendPolicy == .sameCode, codeLength: request.codeLength,
            ttlSeconds: request.ttlSeconds, maxAttempts: app.policy.maxAttempts, maxSends: app.policy.maxSends,
            resendCooldownSeconds: app.policy.resendCooldownSeconds, metadata: request.metadata)
        return try await store.send(verification, idempotency: idempotency, actor: actor)
    }

    /// nil when the id is not one of the app's verifications.
    public func verify(app: App, verificationID: String, code: String, recipient: String?, actor: Actor) async throws
        -> VerifyDecision?
    {
        guard Identifiers.isVerificationID(verificationID) else { return nil }
        let claimedRecipient = recipient.map { PhoneNumber($0)?.e164 ?? $0 }
        let digester = digester
        return try await store.verify(verificationID: verificationID, appID: app.id, actor: actor) { locked in
            let codeMatches = locked.codeDigest.map {
                digester.matches(code: code, verificationID: verificationID, digest: $0)
            }
            let recipientMatches = claimedRecipient.map { $0 == locked.recipient } ?? true
            return VerifyRules.decide(
                locked.snapshot, codeMatches: codeMatches ?? false, recipientMatches: recipientMatches, now: locked.now)
        }
    }

    public func resend(app: App, verificationID: String, channel requested: String?, actor: Actor) async throws
        -> SendReceipt
    {
        guard Identifiers.isVerificationID(verificationID) else { throw OTPFailure.verificationNotFound }
        let requestedChannel = try requested.map { text throws(OTPFailure) in
            try SendValidation.channel(text, policy: app.policy)
        }
        let (codes, digester, sealer, policy) = (codes, digester, sealer, app.policy)
        return try await store.resend(verificationID: verificationID, appID: app.id, actor: actor) { locked in
            if let refusal = ResendRules.refusal(locked.snapshot, now: locked.now) { throw OTPFailure.resend(refusal) }
            let code: String
            var newDigest: Data? = nil
            if policy.resendPolicy == .sameCode, let kept = locked.sealedCode {
                code = try sealer.open(kept, verificationID: verificationID)
            } else {
                code = codes.makeCode(length: locked.codeLength)
                newDigest = digester.digest(code: code, verificationID: verificationID)
            }
            return ResendPlan(
                channel: requestedChannel ?? locked.channel, newCodeDigest: newDigest,
                sealedCode: try sealer.seal(code: code, verificationID: verificationID),
                resendCooldownSeconds: policy.resendCooldownSeconds)
        }
    }

    public func report(app: App, verificationID: String) async throws -> VerificationReport? {
        guard Identifiers.isVerificationID(verificationID) else { return nil }
        return try await store.report(verificationID: verificationID, appID: app.id)
    }
}
