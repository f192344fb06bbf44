import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command to completion with `posix_spawn` and `waitpid`.
///
/// Foundation's `Process` was seen to miss the exit of `pg_ctl start` (whose server lives on), so
/// the launcher spawns and reaps its commands itself.
package enum ChildProcess {
    /// Runs `command` (absolute path first), standard output truncated into one file and standard
    /// error appended to another; returns the exit status.
    static func run(_ command: [String], standardOutput: URL, standardError: URL) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardError.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        closeInheritedDescriptors(&actions)

        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, arguments, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Has the child close every descriptor above standard error. NIO's accepted sockets are not
    /// close-on-exec, so a child would otherwise keep copies of this process's connections, and a
    /// connection closed here would stay open (no FIN) while the child lives: a server started by
    /// `pg_ctl`, or a process a test spawns, could hold a dropped connection open for good.
    /// glibc 2.34+ has `posix_spawn_file_actions_addclosefrom_np`; Swift's Glibc module does not
    /// export it, so it is looked up by name, and skipped on a libc without it.
    package static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
    }
}
