import Foundation

/// Limits are fixed windows: a burst that straddles a window's end is counted in two. Tests that
/// count up to a limit start their burst at least `margin` seconds before the end of the window.
/// Every window the limiter uses (5 min, 10 min, 15 min, 1 h, 1 day) ends on a multiple of 5 minutes,
/// so keeping clear of those ends keeps clear of all of them.
func awayFromWindowEnd(_ window: Int = 300, margin: Double = 45) async throws {
    let into = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: Double(window))
    let left = Double(window) - into
    if left < margin { try await Task.sleep(for: .milliseconds(Int((left + 1) * 1000))) }
}
