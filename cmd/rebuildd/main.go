// Command rebuildd keeps a Docker Compose dev stack in step with its source.
package main

func main() {}
