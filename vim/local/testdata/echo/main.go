// Command echo is the vim/local tests' network helper.
//
//	echo -listen :7000 -reply NAME   serve: greet each connection with NAME, then echo
//	echo -connect ADDR -expect NAME  client: retry until ADDR greets with NAME; exit 0, else 3
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "", "address to serve on")
	reply := flag.String("reply", "hello", "greeting of the server")
	connect := flag.String("connect", "", "address to connect to")
	expect := flag.String("expect", "", "greeting the client expects")
	timeout := flag.Duration("timeout", 20*time.Second, "client: give up after")
	flag.Parse()

	switch {
	case *listen != "":
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("listening on", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				continue
			}
			go func() {
				defer c.Close()
				fmt.Fprintln(c, *reply)
				io.Copy(c, c)
			}()
		}
	case *connect != "":
		deadline := time.Now().Add(*timeout)
		for {
			got, err := greet(*connect)
			if err == nil && (*expect == "" || got == *expect) {
				fmt.Println("connected to", *connect, "greeting", got)
				os.Exit(0)
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "giving up:", got, err)
				os.Exit(3)
			}
			time.Sleep(50 * time.Millisecond)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func greet(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}
