import Foundation
import OTPPostgres
import OTPTesting

#if canImport(Glibc)
    import Glibc
#endif

/// A process the test starts (the built `otp` binary), killed and reaped by the test.
struct SpawnedProcess {
    let pid: pid_t
    let output: URL

    /// The `otp` binary built beside the test bundle.
    static var otpBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("otp")
    }

    static func start(_ arguments: [String], environment: [String: String]) throws -> SpawnedProcess {
        let output = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "otp-process-\(UUID().uuidString).log")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        ChildProcess.closeInheritedDescriptors(&actions)
        let command = [otpBinary.path] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard status == 0 else { throw TestFailure("could not start \(command[0]): \(status)") }
        return SpawnedProcess(pid: pid, output: output)
    }

    /// Sends `signal` and waits for the process to end; one that is still there after 40 s is
    /// killed, so a process that cannot stop fails its test instead of hanging the suite.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Bool {
        var status: Int32 = 0
        // Ended already, or stopped already (a test's check, then its `defer`): nothing to signal.
        let ended = waitpid(pid, &status, WNOHANG)
        if ended == pid || (ended == -1 && errno == ECHILD) { return true }
        kill(pid, signal)
        for _ in 0..<4000 {
            if waitpid(pid, &status, WNOHANG) == pid { return true }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return false
    }

    /// Sends `signal` and waits up to `seconds` for the process to end; false when it did not.
    func signalAndWait(_ signal: Int32, seconds: Double) async -> Bool {
        kill(pid, signal)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
}
