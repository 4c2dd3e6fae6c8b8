// Entry point of the `locara` command (placeholder until the run command lands).
int main() { return 0; }
