import Foundation
import Logging

/// The use cases behind the routes: make and protect codes, apply the limits, and let the store
/// keep them.
///
/// The code exists in plaintext only here, between its generation and its digest and seal; it is
/// never returned, logged or stored.
package struct VerificationService: Sendable {
    let store: any VerificationStore
    let templates: any TemplateStore
    let codes: any CodeGenerator
    let digester: CodeDigester
    let sealer: CodeSealer
    package let numbers: any PhoneNumberParser
    /// Prices a send for its app's spend cap.
    package var rateCard = RateCard.none

    package init(
        store: any VerificationStore, templates: any TemplateStore, codes: any CodeGenerator, keys: ServerKeys,
        numbers: any PhoneNumberParser
    ) {
        self.store = store
        self.templates = templates
        self.codes = codes
        self.digester = CodeDigester(keys: keys)
        self.sealer = CodeSealer(keys: keys)
        self.numbers = numbers
    }

    /// Checks the request against the contract and the app's rules, then sends. Refusals by the
    /// app's destination rules are written to the audit trail.
    package func send(app: App, _ parameters: SendParameters, idempotency: IdempotencyClaim?, actor: Caller)
        async throws -> SendOutcome
    {
        try await recordingRefusals(app: app, verificationID: nil, actor: actor) {
            let request = try SendValidation.validate(parameters, policy: app.policy, numbers: numbers)
            return try await send(app: app, request, idempotency: idempotency, actor: actor)
        }
    }

    package func send(app: App, _ request: ValidatedSend, idempotency: IdempotencyClaim?, actor: Caller) async throws
        -> SendOutcome
    {
        let message = try await chooseMessage(app: app, request)
        let id = Identifiers.verificationID()
        let code = try issueCode(
            verificationID: id, recipient: request.recipient.e164, length: request.codeLength, policy: app.policy,
            transaction: request.transaction)
        var verification = NewVerification(
            id: id, appID: app.id, recipient: request.recipient.e164, country: request.recipient.region,
            channel: request.channel, sender: request.sender, locale: request.locale, codeDigest: code.digest,
            sealedCode: code.sealed, keepsSealedCode: app.policy.resendPolicy == .sameCode, codeLength: code.length,
            ttlSeconds: request.ttlSeconds, maxAttempts: app.policy.maxAttempts, maxSends: app.policy.maxSends,
            resendCooldownSeconds: app.policy.resendCooldownSeconds, metadata: request.metadata, message: message)
        verification.test = code.test
        verification.transaction = request.transaction
        let charges = RateLimits.sendCharges(app: app, recipient: request.recipient, ip: actor.ip)
        let fraud = FraudCheck.of(
            app: app, recipient: request.recipient.e164, country: request.recipient.region, ip: actor.ip,
            test: code.test)
        let spend = SpendCharge.of(
            app: app, channel: request.channel, country: request.recipient.region, rateCard: rateCard, test: code.test)
        return try await store.send(
            verification, idempotency: idempotency, charges: charges, fraud: fraud, spend: spend, actor: actor)
    }

    func chooseMessage(app: App, _ request: ValidatedSend) async throws -> QueuedMessage {
        let settings = app.policy.messages
        // A payment's message is the transaction text unless the send names its own template.
        let name = request.template ?? (request.transaction == nil ? settings.defaultTemplate : nil)
        var custom: CustomTemplate? = nil
        if let name, UseCase(rawValue: name) == nil {
            guard name.utf8.count <= 64, let found = try await templates.template(id: name, appIDs: [app.id]) else {
                throw OTPFailure.templateNotFound
            }
            custom = found
        }
        return try MessageChoice.choose(
            template: name, custom: custom, locale: request.locale, settings: settings,
            region: request.recipient.region,
            transaction: request.transaction)
    }

    /// nil when the id is not one of the app's verifications. A guessing limit's refusal is a
    /// decision like the others (`refusal` set), recorded by the store.
    /// `transaction`: what the verify call says it confirms; it must be the verification's own.
    package func verify(
        app: App, verificationID: String, code: String, recipient: String?, transaction: Transaction? = nil,
        actor: Caller
    ) async throws -> VerifyDecision? {
        guard Identifiers.isVerificationID(verificationID) else { return nil }
        let claimedRecipient = recipient.map { numbers.parse($0)?.e164 ?? $0 }
        let digester = digester
        let maxAttempts = app.policy.maxAttempts
        return try await recordingRefusals(app: app, verificationID: verificationID, actor: actor) {
            try await store.verify(
                verificationID: verificationID, appID: app.id, actor: actor,
                gate: RateLimits.verifyCharge(app: app, ip: actor.ip),
                onFailure: { RateLimits.failureCharge(app: app, recipient: $0) }
            ) { locked in
                // Judged against the stored transaction: a row changed behind the service's back no
                // longer matches the digest.
                let codeMatches = locked.codeDigest.map {
                    digester.matches(
                        code: code, verificationID: verificationID, transaction: locked.transaction, digest: $0)
                }
                let recipientMatches = claimedRecipient.map { $0 == locked.recipient } ?? true
                return VerifyRules.decide(
                    locked.snapshot, guesses: locked.guesses, maxAttempts: maxAttempts,
                    codeMatches: codeMatches ?? false, recipientMatches: recipientMatches,
                    transactionMatches: locked.transaction?.canonical == transaction?.canonical, now: locked.now)
            }
        }
    }

    /// Runs `body`; a refusal by a limit or an app rule is written to the audit trail (after the
    /// refused transaction rolled back, which would have taken the event with it) and rethrown.
    private func recordingRefusals<Result>(
        app: App, verificationID: String?, actor: Caller, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let failure as OTPFailure {
            if let refusal = failure.refusal {
                await store.recordRefusal(refusal, appID: app.id, verificationID: verificationID, actor: actor)
            }
            throw failure
        }
    }

    package func resend(app: App, verificationID: String, channel requested: String?, actor: Caller) async throws
        -> SendResult
    {
        guard Identifiers.isVerificationID(verificationID) else { throw OTPFailure.verificationNotFound }
        let requestedChannel = try requested.map { text throws(OTPFailure) in
            try SendValidation.channel(text, policy: app.policy)
        }
        return try await recordingRefusals(app: app, verificationID: verificationID, actor: actor) {
            try await resend(app: app, verificationID: verificationID, channel: requestedChannel, actor: actor)
        }
    }

    private func resend(app: App, verificationID: String, channel requestedChannel: MessageChannel?, actor: Caller)
        async throws -> SendResult
    {
        let service = self
        return try await store.resend(verificationID: verificationID, appID: app.id, actor: actor) { locked in
            if let refusal = ResendRules.refusal(locked.snapshot, now: locked.now) { throw OTPFailure.resend(refusal) }
            let channel = requestedChannel ?? locked.channel
            guard let recipient = service.numbers.parse(locked.recipient) else { throw OTPFailure.invalidRecipient }
            try SendValidation.checkDestination(recipient, channel: channel, policy: app.policy)
            // A test number's code stays its own (a number made a test one meanwhile gets it now).
            let code = try service.issueCode(
                verificationID: verificationID, recipient: locked.recipient, length: locked.codeLength,
                policy: app.policy, kept: locked.sealedCode, transaction: locked.transaction)
            return ResendPlan(
                channel: channel, newCodeDigest: code.reused ? nil : code.digest, sealedCode: code.sealed,
                resendCooldownSeconds: app.policy.resendCooldownSeconds,
                charges: RateLimits.sendCharges(app: app, recipient: recipient, ip: actor.ip),
                country: recipient.region)
        }
    }

    package func report(app: App, verificationID: String) async throws -> VerificationReport? {
        guard Identifiers.isVerificationID(verificationID) else { return nil }
        return try await store.report(verificationID: verificationID, appID: app.id)
    }

    /// Every rule that applies to sends to `recipient` from `ip`, and to verifies from `ip`.
    package func rateLimits(app: App, recipient: String, ip: String?) async throws -> [RateLimitStatus] {
        guard let number = numbers.parse(recipient) else { throw OTPFailure.invalidRecipient }
        var charges = RateLimits.sendCharges(app: app, recipient: number, ip: ip, sharded: false)
        charges += [
            RateLimits.verifyCharge(app: app, ip: ip), RateLimits.failureCharge(app: app, recipient: number.e164),
        ]
        .compactMap { $0 }
        return try await store.usage(of: charges)
    }
}
