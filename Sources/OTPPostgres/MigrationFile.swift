import Crypto
import Foundation

/// One numbered file of `sql/`, e.g. `0001_schema.sql`.
package struct MigrationFile: Sendable, Equatable {
    package var version: Int
    package var name: String
    package var contents: String

    package init(version: Int, name: String, contents: String) {
        self.version = version
        self.name = name
        self.contents = contents
    }

    /// Hex SHA-256 of the file, recorded when applied so a later edit is noticed.
    package var checksum: String {
        SHA256.hash(data: Data(contents.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The statements of the file, one per extended-protocol query. A statement ends with a `;` at
    /// the end of a line; `$$`-quoted bodies may hold semicolons of their own.
    package var statements: [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var insideDollarQuote = false
        for line in contents.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("--")) { continue }
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { insideDollarQuote.toggle() }
            if !insideDollarQuote && trimmed.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Every `NNNN_name.sql` in `directory`, in version order.
    package static func load(from directory: URL) throws -> [MigrationFile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try names.compactMap { name -> MigrationFile? in
            guard name.hasSuffix(".sql"), let version = Int(name.prefix { $0.isNumber }) else { return nil }
            let contents = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return MigrationFile(version: version, name: name, contents: contents)
        }.sorted { $0.version < $1.version }
    }

    /// The migrations of `defaultDirectory()`.
    package static func loadDefault() throws -> [MigrationFile] {
        try load(from: defaultDirectory())
    }

    /// The schema's functions and triggers, one file each in `functions/` of `directory` (the live
    /// definitions: `CREATE OR REPLACE`, applied by `Migrator` after the numbered migrations
    /// whenever a file changed). Functions first, by name, then the triggers (`trigger_*.sql`),
    /// which name them. `version` is 0: they have no place in the numbered order.
    package static func loadFunctions(from directory: URL) throws -> [MigrationFile] {
        let folder = directory.appendingPathComponent("functions")
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
        return try names.sorted { ($0.hasPrefix("trigger_") ? 1 : 0, $0) < ($1.hasPrefix("trigger_") ? 1 : 0, $1) }
            .map { name in
                let contents = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                return MigrationFile(version: 0, name: "functions/" + name, contents: contents)
            }
    }

    /// The functions of `defaultDirectory()`.
    package static func loadDefaultFunctions() throws -> [MigrationFile] {
        try loadFunctions(from: defaultDirectory())
    }

    /// Where the migrations are: `OTP_MIGRATIONS_DIR`, else `./sql`, else `share/otp/sql` beside the
    /// binary's prefix, else the `sql/` of the source checkout this binary was built from.
    package static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let configured = environment["OTP_MIGRATIONS_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql"),
            executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/otp/sql"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("sql"),
        ]
        let found = candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("0001_schema.sql").path)
        }
        return found ?? candidates[0]
    }
}
