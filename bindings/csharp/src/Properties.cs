using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Parley")]
[assembly: AssemblyDescription("C# binding of Parley, a voice-agent runtime")]
[assembly: InternalsVisibleTo("Parley.Tests")]
