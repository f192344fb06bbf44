import Foundation
import OTPCore
import OTPDashboard

/// `otp report`: a day's report of every app (or one) written to a folder, atomically: the file is
/// written beside its final name and renamed over it, so a reader sees the old report or the new
/// one, never half of one.
package struct ReportFiles: Sendable {
    package enum Format: String, Sendable, CaseIterable {
        case csv, html
    }

    let management: any ManagementStore

    package init(management: any ManagementStore) { self.management = management }

    /// Writes `DIR/otp-report-DAY[-APPID].FORMAT` and returns its path.
    package func write(day: String, appIDs: [String], appID: String?, format: Format, to folder: URL) async throws
        -> URL
    {
        let parts = try await management.reportParts(appIDs: appIDs, from: day, to: day)
        let text: String =
            switch format {
            case .csv: DailyReport.csv(day: day, parts: parts)
            case .html: DailyReport.html(day: day, scope: appID ?? "all apps", parts: parts)
            }
        let name = "otp-report-\(day)" + (appID.map { "-\($0)" } ?? "") + "." + format.rawValue
        let file = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file, options: .atomic)
        return file
    }
}
