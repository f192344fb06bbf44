import OTPCore

extension Settings {
    /// `OTP_ROUTING`: `configured` (the default: providers in the order of `OTP_*_PROVIDERS`) or
    /// `conversion` (per channel and country, by how often their codes are verified; see
    /// `ConversionRouting`), with `OTP_ROUTING_WINDOW_HOURS` (default 6), `OTP_ROUTING_MIN_SENDS`
    /// (20), `OTP_ROUTING_EXPLORATION` (0.1), `OTP_ROUTING_UNTRIED_CONVERSION` (0.5) and
    /// `OTP_ROUTING_GRACE_SECONDS` (120). nil when routing is as configured.
    package func routing() throws -> ConversionRouting? {
        switch value("OTP_ROUTING") ?? "configured" {
        case "configured": return nil
        case "conversion": break
        default: throw SettingsError.invalid("OTP_ROUTING", "expected configured or conversion")
        }
        var routing = ConversionRouting()
        if let hours = try number("OTP_ROUTING_WINDOW_HOURS", in: 1...336) {
            routing.window = .seconds(Int(hours * 3600))
        }
        if let sends = try number("OTP_ROUTING_MIN_SENDS", in: 1...100_000) { routing.minimumSends = Int(sends) }
        if let share = try number("OTP_ROUTING_EXPLORATION", in: 0...0.5) { routing.explorationShare = share }
        if let prior = try number("OTP_ROUTING_UNTRIED_CONVERSION", in: 0...1) { routing.untriedConversion = prior }
        if let grace = try number("OTP_ROUTING_GRACE_SECONDS", in: 0...3600) { routing.verifyGrace = .seconds(grace) }
        return routing
    }

    private func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), range.contains(number) else {
            throw SettingsError.invalid(name, "expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
