import OTPCore
import Testing

/// A generator that replays fixed draws, to see exactly which draws the sampler keeps.
struct ReplayGenerator: RandomNumberGenerator {
    var draws: [UInt64]
    mutating func next() -> UInt64 { draws.removeFirst() }
}

@Suite struct CodeGeneratorTests {
    @Test(arguments: 6...10)
    func codesHaveTheRequestedLengthAndOnlyDigits(length: Int) {
        for _ in 0..<200 {
            let code = RandomCodeGenerator().makeCode(length: length)
            #expect(code.count == length)
            #expect(code.allSatisfy { $0.isASCII && $0.isNumber })
        }
    }

    @Test func drawsInTheBiasedTailAreRejected() {
        // 2^64 - 1 lies above the largest multiple of 10^6 that fits, so it must be thrown away.
        var rng = ReplayGenerator(draws: [UInt64.max, UInt64.max - 5, 1_234_567])
        #expect(RandomCodeGenerator.makeCode(length: 6, using: &rng) == "234567")
        #expect(rng.draws.isEmpty)
    }

    @Test func leadingZerosAreKept() {
        var rng = ReplayGenerator(draws: [42])
        #expect(RandomCodeGenerator.makeCode(length: 6, using: &rng) == "000042")
    }

    @Test func firstDigitIsRoughlyUniform() {
        var counts = [Int](repeating: 0, count: 10)
        let samples = 50_000
        for _ in 0..<samples {
            let code = RandomCodeGenerator().makeCode(length: 6)
            counts[Int(String(code.first ?? "0")) ?? 0] += 1
        }
        // Chi-square with 9 degrees of freedom: a fair generator exceeds 40 about once in 200,000 runs;
        // `% 10^6` over a biased range, or a digit never drawn, lands far above it.
        let expected = Double(samples) / 10
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 40, "counts \(counts)")
    }
}
