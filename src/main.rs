fn main() {
    std::process::exit(antenne::cli::main());
}
