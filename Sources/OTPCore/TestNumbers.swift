import Foundation

/// An app's test numbers: chosen E.164 numbers whose code is fixed and whose messages go to no
/// provider, for app stores' reviewers and automated tests. The codes are kept sealed under the key
/// ring (bound to their number), never in plaintext.
package enum TestNumbers {
    /// A test code is digits, as long as any code may be.
    package static func isValid(code: String) -> Bool {
        AppPolicy.codeLengths.contains(code.count) && code.allSatisfy { $0.isASCII && $0.isNumber }
    }

    package static func seal(code: String, number: String, sealer: CodeSealer) throws -> Data {
        try sealer.seal(code: code, verificationID: binding(number))
    }

    /// The fixed code of `e164` when it is one of the policy's test numbers.
    package static func code(for e164: String, policy: AppPolicy, sealer: CodeSealer) throws -> String? {
        guard let sealed = policy.testNumbers[e164] else { return nil }
        return try sealer.open(sealed, verificationID: binding(e164))
    }

    /// Applies `+E164=CODE` or `+E164=CODE:OUTCOME` (add or replace; `TestOutcome`) and `+E164=`
    /// (remove) entries.
    package static func apply(_ entries: [String], to policy: inout AppPolicy, sealer: CodeSealer) throws(PolicyProblem)
    {
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 2, isE164(parts[0]) else {
                throw PolicyProblem(
                    "a test number is +E164=CODE or +E164=CODE:OUTCOME (or +E164= to remove it), e.g. +15555550100=123456"
                )
            }
            let number = parts[0]
            if parts[1].isEmpty {
                policy.testNumbers[number] = nil
                policy.testOutcomes[number] = nil
                continue
            }
            let codeAndOutcome = parts[1].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(
                String.init)
            let code = codeAndOutcome[0]
            guard isValid(code: code) else { throw PolicyProblem("a test number's code is 6 to 10 digits") }
            var outcome: TestOutcome?
            if codeAndOutcome.count == 2 {
                guard let scripted = TestOutcome(codeAndOutcome[1]) else {
                    throw PolicyProblem(
                        "a test number's outcome is delivered, undelivered, delayed:SECONDS (1 to 3600), provider_down, no_whatsapp or landline"
                    )
                }
                outcome = scripted
            }
            do {
                policy.testNumbers[number] = try seal(code: code, number: number, sealer: sealer)
                policy.testOutcomes[number] = outcome
            } catch {
                throw PolicyProblem("the test number's code could not be sealed")
            }
        }
    }

    static func isE164(_ text: String) -> Bool {
        text.hasPrefix("+") && (8...16).contains(text.count)
            && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func binding(_ number: String) -> String { "test-number|" + number }
}
