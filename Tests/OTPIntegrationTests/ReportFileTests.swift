import Foundation
import OTPCore
import Testing

/// `otp report`: the day's files, the same bytes on a rerun, the HTML standing alone.
@Suite struct ReportFileTests {
    @Test func aDaysReportIsTheSameFileTwiceAndTheHTMLStandsAlone() async throws {
        // A database of its own: another suite's worker would deliver these sends between the runs.
        try await TestApp.with(ownDatabase: true) { world in
            try await world.test { client in
                let verified = try await world.send(client, code: "111111", recipient: "+5511999880001")
                _ = try await world.verify(client, verified, code: "111111")
                _ = try await world.send(client, recipient: "+14155550100")
            }
            let today = UTCDay.format(Date())
            let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
                "otp-reports-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            var files: [String: String] = [:]
            for format in ["csv", "html"] {
                var runs: [Data] = []
                for _ in 0..<2 {
                    let process = try SpawnedProcess.start(
                        ["report", "--day", today, "--appid", world.app.id, "--format", format, "--out", folder.path],
                        environment: ["DATABASE_URL": world.databaseURL])
                    let status = await process.waitForExit(seconds: 60)
                    #expect(status == 0, "\(process.log)")
                    runs.append(
                        try Data(
                            contentsOf: folder.appendingPathComponent("otp-report-\(today)-\(world.app.id).\(format)")))
                }
                #expect(runs[0] == runs[1], "a rerun writes the same \(format)")
                files[format] = String(decoding: runs[0], as: UTF8.self)
            }
            let csv = try #require(files["csv"]).split(separator: "\n")
            #expect(csv.first?.hasPrefix("day,channel,country,verifications,sent,delivered") == true)
            // The total: 2 sends, 1 verified.
            #expect(csv.last?.hasPrefix("\(today),all,all,2,") == true, "\(csv)")
            #expect(csv.contains { $0.hasPrefix("\(today),sms,BR,1,") })
            let html = try #require(files["html"])
            #expect(html.contains("<svg role=\"img\""))
            for outside in ["<script", "http:", "https:", "src=", "url(", "<link"] {
                #expect(!html.contains(outside), "no \(outside) in the HTML")
            }
            // Nothing but the folder's files: the atomic write leaves no temporary behind.
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(names == ["otp-report-\(today)-\(world.app.id).csv", "otp-report-\(today)-\(world.app.id).html"])
        }
    }
}
