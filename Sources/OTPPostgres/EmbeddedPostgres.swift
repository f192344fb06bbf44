import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A private PostgreSQL cluster in a folder of ours, made with the server binaries found on the
/// machine. Used by `otp dev` and by the tests when `DATABASE_URL` is not set.
///
/// It listens on 127.0.0.1 only, on a free port picked at each start. The tests' throwaway clusters
/// trust every local login; `otp dev`'s asks for a password (`passwordProtected`): its two roles'
/// passwords are made on the first run and kept in the folder (0600), so another user of the
/// machine cannot log in to it. For development and tests, never production. Started by root, the
/// server runs as the `postgres` user, since PostgreSQL refuses to run as root.
package struct EmbeddedPostgres: Sendable {
    package enum LaunchError: Error, CustomStringConvertible {
        case binariesNotFound
        case commandFailed(String, status: Int32, log: URL)

        package var description: String {
            switch self {
            case .binariesNotFound:
                "no PostgreSQL server found: install it (Debian: apt-get install postgresql) or put initdb and pg_ctl on PATH"
            case .commandFailed(let command, let status, let log):
                "\(command) exited with status \(status); see \(log.path)"
            }
        }
    }

    /// The owner's and the runtime role's passwords (hex: nothing to escape in a URL).
    package struct Passwords: Codable, Sendable {
        package var owner: String
        package var runtime: String
    }

    package let directory: URL
    package let port: Int
    package let database = "otp"
    package let user = "otp"
    private let binaries: URL
    package var passwords: Passwords? = nil

    package var dataDirectory: URL { directory.appendingPathComponent("pgdata") }
    /// As the owner (a superuser): for migrations.
    package var url: String {
        "postgres://\(user)\(passwords.map { ":" + $0.owner } ?? "")@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }
    /// The login role serve and work use: a member of `otp_runtime` (see `DatabaseRoles`).
    package static let runtimeUser = "otp_service"
    package var runtimeURL: String {
        let password = passwords.map { ":" + $0.runtime } ?? ""
        return "postgres://\(Self.runtimeUser)\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }
    var launcherLog: URL { directory.appendingPathComponent("launcher.log") }

    /// Creates the cluster under `directory` on first use, then starts it and waits until it accepts
    /// connections. A server left running by an earlier crash is stopped first.
    package static func start(
        in directory: URL, fastAndUnsafe: Bool = false, passwordProtected: Bool = false
    ) throws -> EmbeddedPostgres {
        guard let binaries = findBinaries() else { throw LaunchError.binariesNotFound }
        var cluster = EmbeddedPostgres(directory: directory, port: try freePort(), binaries: binaries)
        if passwordProtected { cluster.passwords = try loadOrMakePasswords(in: directory) }
        try cluster.initialiseIfNeeded(fastAndUnsafe: fastAndUnsafe)
        _ = try? cluster.pgctl(["stop", "-m", "fast", "-w"])
        try cluster.startServer(fastAndUnsafe: fastAndUnsafe)
        if let passwords = cluster.passwords { try cluster.writePasswordFile(passwords) }
        try cluster.createDatabase()
        if let passwords = cluster.passwords { try cluster.requirePasswords(passwords) }
        return cluster
    }

    private var passwordFile: URL { directory.appendingPathComponent("pgpass") }

    /// The folder's passwords, made on first use (32 random bytes each, hex), readable by its owner only.
    static func loadOrMakePasswords(in directory: URL) throws -> Passwords {
        let file = directory.appendingPathComponent("database-passwords.json")
        if let data = try? Data(contentsOf: file) { return try JSONDecoder().decode(Passwords.self, from: data) }
        func random() -> String {
            var generator = SystemRandomNumberGenerator()
            return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
                .joined()
        }
        let passwords = Passwords(owner: random(), runtime: random())
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: try JSONEncoder().encode(passwords), attributes: [.posixPermissions: 0o600]
            )
        else { throw CocoaError(.fileWriteUnknown) }
        return passwords
    }

    /// psql's password file (`PGPASSFILE`), for the commands this type runs against the server.
    private func writePasswordFile(_ passwords: Passwords) throws {
        try writePrivate("127.0.0.1:*:*:\(user):\(passwords.owner)\n", to: passwordFile)
    }

    /// Sets both roles' passwords (the runtime role's once it exists: `DatabaseRoles` makes it with
    /// one), then has every login over TCP give one (scram-sha-256) and reloads the server. The
    /// statements go through a file, never a command line another user could read.
    private func requirePasswords(_ passwords: Passwords) throws {
        let script = directory.appendingPathComponent("set-passwords.sql")
        try writePrivate(
            """
            ALTER ROLE \(user) PASSWORD '\(passwords.owner)';
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(Self.runtimeUser)') THEN
                    ALTER ROLE \(Self.runtimeUser) PASSWORD '\(passwords.runtime)';
                END IF;
            END $$;
            """, to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        try run(binaries.appendingPathComponent("psql"), psqlConnection(database: "postgres") + ["-f", script.path])
        try writePrivate(
            """
            # Written by otp dev: every login gives its password.
            local all all scram-sha-256
            host all all 127.0.0.1/32 scram-sha-256
            host all all ::1/128 scram-sha-256

            """, to: dataDirectory.appendingPathComponent("pg_hba.conf"))
        try pgctl(["reload"])
    }

    /// Writes `text` readable by the server's user only.
    private func writePrivate(_ text: String, to file: URL) throws {
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        if Self.runningAsRoot {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: file.path)
        }
    }

    private func psqlConnection(database: String) -> [String] {
        ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1"]
    }

    /// Stops the server (fast shutdown) and waits for it to exit.
    package func stop() {
        _ = try? pgctl(["stop", "-m", "fast", "-w", "-t", "30"])
    }

    /// Kills the server the way a crash would (immediate shutdown: no checkpoint, recovery from the
    /// WAL on the next start), for the tests of what a crash may lose.
    package func crash() throws {
        try pgctl(["stop", "-m", "immediate", "-w", "-t", "30"])
    }

    /// Starts the server again on the same port after `stop()` or `crash()`.
    package func restart() throws {
        try startServer(fastAndUnsafe: false)
    }

    private func startServer(fastAndUnsafe: Bool) throws {
        var options = "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300"
        if fastAndUnsafe { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
        try pgctl([
            "start", "-w", "-t", "60", "-l", dataDirectory.appendingPathComponent("server.log").path, "-o", options,
        ])
    }

    private func initialiseIfNeeded(fastAndUnsafe: Bool) throws {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) { return }
        try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory.path)
        if Self.runningAsRoot {
            try fileManager.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: dataDirectory.path)
        }
        var arguments = ["-D", dataDirectory.path, "-U", user, "--auth=trust", "--encoding=UTF8", "--locale=C"]
        if fastAndUnsafe { arguments.append("--no-sync") }
        try run(binaries.appendingPathComponent("initdb"), arguments)
    }

    private func createDatabase() throws {
        let psql = binaries.appendingPathComponent("psql")
        let connection = psqlConnection(database: "postgres")
        let exists = try capture(psql, connection + ["-tAc", "SELECT 1 FROM pg_database WHERE datname = 'otp'"])
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            try run(psql, connection + ["-c", "CREATE DATABASE otp"])
        }
    }

    @discardableResult
    private func pgctl(_ arguments: [String]) throws -> String {
        try capture(binaries.appendingPathComponent("pg_ctl"), ["-D", dataDirectory.path] + arguments)
    }

    private func run(_ executable: URL, _ arguments: [String]) throws {
        _ = try capture(executable, arguments)
    }

    /// Runs a server binary (as `postgres` when we are root), appending its output to the launcher
    /// log, and returns its standard output.
    private func capture(_ executable: URL, _ arguments: [String]) throws -> String {
        // The password file's path only (never a password) goes on the command line.
        let environment = passwords == nil ? [] : ["/usr/bin/env", "PGPASSFILE=\(passwordFile.path)"]
        let command =
            Self.runningAsRoot
            ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + environment + [executable.path] + arguments
            : environment + [executable.path] + arguments
        // Output goes to files, not pipes: pg_ctl leaves a server behind that would keep a pipe open.
        let output = directory.appendingPathComponent("launcher.out")
        let status = try ChildProcess.run(command, standardOutput: output, standardError: launcherLog)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        if let log = try? FileHandle(forWritingTo: launcherLog) {
            log.seekToEndOfFile()
            log.write(Data(text.utf8))
            try? log.close()
        }
        guard status == 0 else {
            throw LaunchError.commandFailed(
                executable.lastPathComponent + " " + (arguments.first ?? ""), status: status, log: launcherLog)
        }
        return text
    }

    static var runningAsRoot: Bool { geteuid() == 0 }

    /// `initdb` and `pg_ctl` from PATH, else from the newest `/usr/lib/postgresql/*/bin`.
    static func findBinaries() -> URL? {
        let fileManager = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var candidates = path.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.compactMap(Int.init).sorted(by: >).map {
            URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin")
        }
        return candidates.lazy.compactMap { directory -> URL? in
            let initdb = directory.appendingPathComponent("initdb").resolvingSymlinksInPath()
            guard fileManager.isExecutableFile(atPath: initdb.path) else { return nil }
            // Debian links only some binaries into PATH: use the folder the real initdb lives in.
            let real = initdb.deletingLastPathComponent()
            let complete = ["pg_ctl", "psql"].allSatisfy {
                fileManager.isExecutableFile(atPath: real.appendingPathComponent($0).path)
            }
            return complete ? real : nil
        }.first
    }

    /// A TCP port nothing listens on right now, from the kernel's ephemeral range.
    package static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
