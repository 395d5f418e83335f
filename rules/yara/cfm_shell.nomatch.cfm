<cfset greeting = "Hello, " & htmlEditFormat(url.name)>
<cffile action="read" file="#expandPath('./motd.txt')#" variable="motd">
<cfoutput>#greeting# #motd#</cfoutput>
