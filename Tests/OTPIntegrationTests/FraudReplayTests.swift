import Foundation
import OTPCore
import OTPTesting
import Testing

/// A day of traffic played at compressed time through the guard's rule (`FraudGuard`) and counts
/// kept as PostgreSQL keeps them (`FraudLedger`), after a day of the same normal traffic as history:
/// - normal users in four countries, each country verifying 60 to 90 % of its codes 20 s to 2 min
///   after the send, from thousands of IPs and a few carrier NAT addresses;
/// - a legitimate spike: five times Brazil's rate for two hours, still converting;
/// - SMS pumping: sequential numbers on two blocks (one in a country with real users), spread over
///   50 IPs, never verifying, 600 sends an hour on each block for three hours.
/// It prints what `enforce` refused and what the replay's rate card says that saved; it fails when a
/// legitimate send is refused or when less than 95 % of the pumped sends after the first 30 of each
/// block are refused. The guard's default thresholds are the ones this replay justifies.
@Suite struct FraudReplayTests {
    struct Country {
        var code: String
        var dialing: String
        var nationalDigits: Int
        var sendsPerHour: Double
        var conversion: Double
        /// The replay's rate card: what one SMS there costs, in USD.
        var price: Double
    }

    static let countries = [
        Country(code: "BR", dialing: "+55119", nationalDigits: 8, sendsPerHour: 400, conversion: 0.75, price: 0.0225),
        Country(code: "PT", dialing: "+3519", nationalDigits: 8, sendsPerHour: 120, conversion: 0.85, price: 0.0386),
        Country(code: "US", dialing: "+1415", nationalDigits: 7, sendsPerHour: 250, conversion: 0.9, price: 0.0079),
        Country(code: "GB", dialing: "+447", nationalDigits: 9, sendsPerHour: 150, conversion: 0.6, price: 0.0463),
    ]
    /// Pumped blocks: one in a country with real users, one where the app has none.
    static let pumpedBlocks = [("GB", "+4479112", 0.0463), ("SL", "+2327620", 0.2475)]

    enum Kind: Equatable { case normal, spike, pumped(block: Int) }

    struct Send {
        var at: Double
        var kind: Kind
        var recipient: String
        var country: String
        var ip: String
        var price: Double
        /// Seconds until the user types the code; nil when it is never verified.
        var verifiesAfter: Double?
    }

    @Test func enforceRefusesThePumpingAndNoLegitimateSend() async {
        var random = SplitMix64(seed: 20_261_205)
        let day = 86_400.0
        var sends: [Send] = []
        for country in Self.countries {
            // History (day 0) and the replayed day (day 1), Poisson arrivals.
            var time = 0.0
            while time < 2 * day {
                let spike = country.code == "BR" && (day + 10 * 3600..<day + 12 * 3600).contains(time)
                time += random.exponential(mean: 3600 / (country.sendsPerHour * (spike ? 5 : 1)))
                let national = (0..<country.nationalDigits).map { _ in String(random.next() % 10) }.joined()
                // Thousands of IPs, and one carrier NAT address in ten sends.
                let ip =
                    random.unit() < 0.1
                    ? "100.64.0.\(random.next() % 4)" : "198.18.\(random.next() % 256).\(random.next() % 256)"
                sends.append(
                    Send(
                        at: time, kind: spike ? .spike : .normal, recipient: country.dialing + national,
                        country: country.code, ip: ip, price: country.price,
                        verifiesAfter: random.unit() < country.conversion ? 20 + random.unit() * 100 : nil))
            }
        }
        for (index, (country, block, price)) in Self.pumpedBlocks.enumerated() {
            for n in 0..<1_800 {
                let at = day + 14 * 3600 + Double(n) * 6 + Double(index)
                sends.append(
                    Send(
                        at: at, kind: .pumped(block: index), recipient: block + String(format: "%05d", n),
                        country: country, ip: "203.0.113.\(n % 50)", price: price, verifiesAfter: nil))
            }
        }
        sends.sort { $0.at < $1.at }

        var ledger = FraudLedger()
        var app = App(id: "app_replay", accountID: 1, name: "Replay", policy: .default)
        app.policy.fraud.mode = .enforce
        var pending: [(at: Double, scopes: [FraudScope])] = []
        var refused: [Kind: Int] = [:]
        var sent: [Kind: Int] = [:]
        var pumpedSeen = [0, 0]
        var pumpedRefusedAfter30 = [0, 0]
        var saved = 0.0
        let start = Date(timeIntervalSince1970: 1_796_000_000)
        for (index, send) in sends.enumerated() {
            // Seconds of work in a debug build: other tests' timers share the two cooperative threads.
            if index % 500 == 0 { await Task.yield() }
            let now = start.addingTimeInterval(send.at)
            let due = pending.filter { $0.at <= send.at }
            pending.removeAll { $0.at <= send.at }
            for verify in due {
                ledger.verified(
                    appID: app.id, scopes: verify.scopes, at: start.addingTimeInterval(verify.at))
            }
            let check = FraudCheck.of(
                app: app, recipient: send.recipient, country: send.country, ip: send.ip, test: false)
            let verdict = ledger.judge(appID: app.id, check, at: now)
            let replayed = send.at >= day
            if case .pumped(let block) = send.kind { pumpedSeen[block] += 1 }
            if case .block = verdict {
                guard replayed else { continue }
                refused[send.kind, default: 0] += 1
                saved += send.price
                if case .pumped(let block) = send.kind, pumpedSeen[block] > 30 { pumpedRefusedAfter30[block] += 1 }
                continue
            }
            if replayed { sent[send.kind, default: 0] += 1 }
            if let after = send.verifiesAfter, let check {
                pending.append((send.at + after, check.scopes))
            }
        }

        let legitimateRefused = refused[.normal, default: 0] + refused[.spike, default: 0]
        print("fraud replay (enforce, default thresholds), one day after one day of history:")
        print("| traffic | sends | refused |")
        print("|---|---|---|")
        for (name, kind) in [("normal", Kind.normal), ("legitimate spike", .spike)] {
            print("| \(name) | \(sent[kind, default: 0] + refused[kind, default: 0]) | \(refused[kind, default: 0]) |")
        }
        for (index, block) in Self.pumpedBlocks.enumerated() {
            let kind = Kind.pumped(block: index)
            let total = sent[kind, default: 0] + refused[kind, default: 0]
            let share = Double(pumpedRefusedAfter30[index]) / Double(max(1, total - 30))
            print(
                "| pumped \(block.1)… | \(total) | \(refused[kind, default: 0]) (\(String(format: "%.1f", share * 100)) % after the first 30) |"
            )
            #expect(share >= 0.95, "block \(block.1): \(share)")
        }
        print("money the replay's rate card says was saved: \(String(format: "%.2f", saved)) USD")
        #expect(legitimateRefused == 0)
        #expect(sent[.spike, default: 0] > 1_000, "the spike was played")
    }
}

extension FraudReplayTests.Kind: Hashable {}

/// A small seeded generator: the replay is the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }
}
