import Foundation
import OTPCore
import Testing

/// The rules of an app's webhook: where it may point, when a secret is made, how long it is retried.
@Suite struct AppWebhookRulesTests {
    let sealer = CodeSealer(keys: try! ServerKeys(base64: ServerKeys.generateSecret()))
    let rules = OutboundGuard()

    @Test func theFirstURLMakesASecretAChangedURLKeepsItAndRotationReplacesIt() throws {
        var policy = AppPolicy.default
        let first = try #require(
            try AppWebhook.apply(
                url: "https://a.example/h", rotateSecret: false, to: &policy, appID: "app_1", sealer: sealer,
                rules: rules))
        #expect(first.hasPrefix("whsec_") && Data(base64Encoded: String(first.dropFirst(6)))?.count == 32)
        let sealed = try #require(policy.webhook?.sealedSecret)
        #expect(try AppWebhook.open(sealed, appID: "app_1", sealer: sealer) == first)
        #expect((try? AppWebhook.open(sealed, appID: "app_2", sealer: sealer)) == nil, "bound to its app")

        #expect(
            try AppWebhook.apply(
                url: "https://b.example/h", rotateSecret: false, to: &policy, appID: "app_1", sealer: sealer,
                rules: rules) == nil)
        #expect(policy.webhook?.url == "https://b.example/h")
        #expect(policy.webhook?.sealedSecret == sealed)

        let rotated = try #require(
            try AppWebhook.apply(
                url: nil, rotateSecret: true, to: &policy, appID: "app_1", sealer: sealer, rules: rules))
        #expect(rotated != first)
        #expect(
            try AppWebhook.open(try #require(policy.webhook?.sealedSecret), appID: "app_1", sealer: sealer) == rotated)

        #expect(
            try AppWebhook.apply(
                url: "", rotateSecret: false, to: &policy, appID: "app_1", sealer: sealer, rules: rules) == nil)
        #expect(policy.webhook == nil)
        #expect(throws: PolicyProblem.self) {
            try AppWebhook.apply(
                url: nil, rotateSecret: true, to: &policy, appID: "app_1", sealer: sealer, rules: rules)
        }
        #expect(throws: PolicyProblem.self) {
            try AppWebhook.apply(
                url: "http://example.com/h", rotateSecret: false, to: &policy, appID: "app_1", sealer: sealer,
                rules: rules)
        }
    }

    @Test func theStandardScheduleRetriesForMoreThanADayThenGivesUp() {
        var generator = SystemRandomNumberGenerator()
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.totalSeconds >= 24 * 3600)
        let now = Date()
        var waited = 0.0
        for attempt in 1...schedule.delays.count {
            let next = try? #require(schedule.nextTry(after: attempt, now: now, using: &generator))
            let seconds = next.map { $0.timeIntervalSince(now) } ?? 0
            let planned = Double(schedule.delays[attempt - 1].components.seconds)
            #expect(seconds >= planned && seconds <= planned * 1.1)
            waited += seconds
        }
        #expect(waited >= 24 * 3600)
        #expect(schedule.nextTry(after: schedule.delays.count + 1, now: now, using: &generator) == nil)
        #expect(schedule.nextTry(after: schedule.delays.count, now: now, using: &generator) != nil)
    }
}
