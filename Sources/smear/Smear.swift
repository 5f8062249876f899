import ArgumentParser

@main
struct Smear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smear",
        abstract: "Count red blood cells and malaria parasites in photographs of Giemsa-stained thin blood smears.",
        subcommands: [Analyze.self, Validate.self, Crops.self, Train.self, CV.self, Compare.self, Calibrate.self, Evaluate.self, Classify.self, Serve.self])

    static func main() {
        Interruption.install()
        main(nil)
    }
}
