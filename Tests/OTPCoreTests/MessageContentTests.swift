import OTPCore
import OTPTemplates
import Testing

/// What a tenant may write into a code message and call things: no phishing lines, no control
/// characters, and HTML escaped per scalar.
@Suite struct MessageContentTests {
    @Test(arguments: [
        "Your Bank code is {{code}}. Confirm at https://evil.example/x", "Code {{code}} http://x.example",
        "Visit WWW.evil.example for help: {{code}}", "{{code}} - sign in at evil.example/login",
        "{{code}}\n\n@evil.example #{{code}}", "Code {{code}} FA+9qCX9VSu", "{{code}} is yours\nab12cd34ef5",
        "Call 0800 1234567 if this was not you: {{code}}", "Your code: {{code}} (or 123456)",
    ])
    func phishingLinesAreRefused(body: String) {
        #expect(MessageContentRules.problem(in: body) != nil, "\(body)")
        #expect(throws: TemplateRules.Problem.self) { try TemplateRules.body(body) }
    }

    @Test(arguments: [
        "Your {{app_name}} code is {{code}}", "Код {{code}} для {{app_name}}",
        "{{code}} is your code. It expires in {{expires_in_minutes}} minutes.", "Information: {{code}}",
        "Code {{code}}, valid 10 min. Do not share it with anyone.", "Seu código é {{code}} — válido por 5 min.",
    ])
    func ordinaryMessagesPass(body: String) {
        #expect(MessageContentRules.problem(in: body) == nil, "\(body)")
    }

    @Test(arguments: [
        "line\nforged\tapp", "\u{1B}]0;pwned\u{07}", "bell\u{07}", "del\u{7F}", "c1\u{85}", "right\u{202E}txt.exe",
        "iso\u{2066}late", "sep\u{2028}arator", "", "   ",
    ])
    func namesWithControlsOrOverridesAreRefused(name: String) {
        #expect(DisplayName.problem(name, what: "name") != nil)
        #expect(throws: TemplateRules.Problem.self) { try TemplateRules.name(name) }
    }

    @Test(arguments: ["Acme", "Café São João", "José's app (beta)", "מבחן", "应用 🙂", "x\u{301}"])
    func printableNamesPass(name: String) {
        #expect(DisplayName.problem(name, what: "name") == nil)
    }

    @Test func aSendNamesOnlyTheAppsSenders() {
        var policy = AppPolicy.default
        policy.senderName = "Acme"
        policy.allowedSenders = ["+14155550100", "Acme Help"]
        #expect(policy.allowsSender("Acme") && policy.allowsSender("+14155550100") && policy.allowsSender("Acme Help"))
        #expect(!policy.allowsSender("YourBank") && !policy.allowsSender("+18005551234"))
        policy.allowedSenders.append("not a sender!")
        #expect(policy.problem != nil)
    }
}
