import Foundation

/// Where an app hears about its verifications: a URL and the secret its events are signed with
/// (Standard Webhooks). The secret is kept sealed under the key ring, bound to the app.
package struct AppWebhook: Sendable, Equatable {
    package var url: String
    package var sealedSecret: Data

    package init(url: String, sealedSecret: Data) {
        self.url = url
        self.sealedSecret = sealedSecret
    }

    /// A new signing secret as the specification serialises it: `whsec_` and the base64 of 32 random bytes.
    package static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_"
            + Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
            .base64EncodedString()
    }

    package static func seal(secret: String, appID: String, sealer: CodeSealer) throws -> Data {
        try sealer.seal(code: secret, verificationID: binding(appID))
    }

    package static func open(_ sealed: Data, appID: String, sealer: CodeSealer) throws -> String {
        try sealer.open(sealed, verificationID: binding(appID))
    }

    private static func binding(_ appID: String) -> String { "webhook-secret|" + appID }

    /// Sets, changes or removes (`url` empty) the app's webhook. The first URL gets a secret, and
    /// `rotateSecret` a new one; a changed URL keeps the secret its receiver already checks with.
    /// A new secret is returned, to be shown this once. The URL's form is checked against `rules`
    /// here; its name, resolved, by `OutboundDestinations.problemAtSave` before the save.
    package static func apply(
        url: String?, rotateSecret: Bool, to policy: inout AppPolicy, appID: String, sealer: CodeSealer,
        rules: OutboundGuard
    ) throws(PolicyProblem) -> String? {
        let url = url?.trimmingCharacters(in: .whitespaces)
        if url == "" {
            guard !rotateSecret else { throw PolicyProblem("there is no webhook secret to rotate without a URL") }
            policy.webhook = nil
            return nil
        }
        guard let target = url ?? policy.webhook?.url else {
            if rotateSecret { throw PolicyProblem("the app has no webhook URL: set one with --webhook-url") }
            return nil
        }
        if case .failure(let refusal) = rules.target(of: target) { throw PolicyProblem(refusal.description) }
        guard rotateSecret || policy.webhook == nil else {
            policy.webhook?.url = target
            return nil
        }
        let secret = newSecret()
        do {
            policy.webhook = AppWebhook(
                url: target, sealedSecret: try seal(secret: secret, appID: appID, sealer: sealer))
        } catch {
            throw PolicyProblem("the webhook secret could not be sealed")
        }
        return secret
    }
}

/// The six events an app's webhook hears, in the contract's names.
package enum AppWebhookEvent: String, Sendable, CaseIterable {
    case deliverySent = "delivery.sent"
    case deliveryDelivered = "delivery.delivered"
    case deliveryFailed = "delivery.failed"
    case verificationVerified = "verification.verified"
    case verificationLocked = "verification.locked"
    case verificationExpired = "verification.expired"
}

/// What came of one POST of a webhook event.
package enum WebhookAnswer: Sendable, Equatable {
    /// The receiver answered with this HTTP status.
    case status(Int)
    /// No answer: `reason` is a short code (`timeout`, `network`, `invalid_url`).
    case failed(reason: String)
    /// Not tried: the URL leads to an address `OutboundGuard` refuses (or to none); not retried.
    case refused(OutboundRefusal)
}

/// Posts one signed event to an app's webhook (the HTTP adapter is in OTPProviders).
package protocol WebhookPoster: Sendable {
    func post(url: String, webhookID: String, body: String, secret: String) async -> WebhookAnswer
}
