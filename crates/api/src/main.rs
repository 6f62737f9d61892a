use clap::Parser;

fn main() {
    let cli = api::cli::Cli::parse();
    std::process::exit(api::cli::run(cli));
}
