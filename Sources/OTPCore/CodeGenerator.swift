/// Makes one-time codes: `length` decimal digits, every string equally likely.
///
/// The generator is a parameter so tests can fix it; production uses `SystemRandomNumberGenerator`,
/// which reads the kernel CSPRNG (`getrandom`).
package protocol CodeGenerator: Sendable {
    func makeCode(length: Int) -> String
}

package struct RandomCodeGenerator: CodeGenerator {
    package init() {}

    package func makeCode(length: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return Self.makeCode(length: length, using: &rng)
    }

    /// Rejection sampling: draws outside the largest multiple of 10^length below 2^64 are thrown
    /// away, so no residue is favoured (a plain `% 10^length` would be biased).
    package static func makeCode(length: Int, using rng: inout some RandomNumberGenerator) -> String {
        precondition((1...19).contains(length), "code length out of range")
        var modulus: UInt64 = 1
        for _ in 0..<length { modulus *= 10 }
        let limit = UInt64.max - (UInt64.max % modulus)
        var draw: UInt64
        repeat { draw = rng.next() } while draw >= limit
        let value = String(draw % modulus)
        return String(repeating: "0", count: length - value.count) + value
    }
}
