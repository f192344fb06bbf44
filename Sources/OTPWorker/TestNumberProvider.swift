import OTPCore

/// Where messages to an app's test numbers go: nowhere. The delivery is marked sent by provider
/// `test`, as every other step of the verification behaves as for any number; a number with a
/// scripted outcome (`TestOutcome`) gets the answer it scripts instead.
struct TestNumberProvider: MessageProvider {
    let name = TestOutcome.provider
    var outcome: TestOutcome?

    func send(_ message: OutboundMessage) async -> ProviderResult {
        guard let outcome else { return .accepted(messageID: "test-\(message.deliveryID)") }
        return outcome.answer(channel: message.channel, deliveryID: message.deliveryID)
    }
}
